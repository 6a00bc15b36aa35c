// Passkeys on the Security page: django-otp-webauthn's script does the ceremony and says when a
// passkey was added; the page then reloads to list it (and show recovery codes made with it).
document.addEventListener("otp_webauthn.register_complete", () => {
  window.location.reload();
});
