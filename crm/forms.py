from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, ClassVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm, PasswordResetForm
from django.utils import timezone

from crm import dateformats, timezones
from crm.formfields import form_field
from crm.models import User, Workspace
from crm.services import SETTINGS_FIELDS


class TimeZoneField(forms.ChoiceField):
    """The places of ``crm.timezones``, grouped by region, typed to filter by static/js/timezones.js.

    An old name (posted by a browser that still reports "Asia/Calcutta") is read as the place
    it now is; ``current``, a stored zone that is no place ("Factory"), stays a choice so
    saving other settings keeps it.
    """

    def __init__(self, *, current: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("label", "Time zone")
        super().__init__(choices=timezones.grouped_choices(now=timezone.now(), current=current), **kwargs)
        self.widget.attrs["data-zone-filter"] = "1"

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return timezones.canonical(value) or value


class DateStyleField(forms.ChoiceField):
    """The date style; left out of a request (a script, an old tab), ``keep`` stays."""

    def __init__(self, *, keep: str) -> None:
        super().__init__(
            choices=dateformats.CHOICES,
            required=False,
            label="Dates",
            help_text="How dates are shown and typed, on every page and in emails.",
        )
        self.keep = dateformats.get_style(keep).code

    def clean(self, value: Any) -> str:
        return super().clean(value) or self.keep


def _time_zone_as_chosen(form: forms.ModelForm, *, help_text: str = "") -> None:
    """The grouped zone choice on a user's form, showing the stored zone (an alias as its place)."""
    current = form.instance.time_zone if form.instance.pk else ""
    form.fields["time_zone"] = TimeZoneField(current=current, help_text=help_text)
    if current:
        form.initial["time_zone"] = timezones.canonical(current) or current


class SignUpForm(BaseUserCreationForm):
    """Email + password; the time zone is preset from the browser by static/js/app.js.

    Never says whether the address has an account (the sign-up emails the address either way).
    From an invitation, the email is the invited address and cannot be changed.
    """

    class Meta:
        model = User
        fields = ("email", "display_name", "time_zone", "date_style")
        labels = {"display_name": "Your name", "time_zone": "Time zone"}
        help_texts = {"display_name": "How teammates see you. Optional."}

    def __init__(self, *args: Any, invited_email: str = "", **kwargs: Any) -> None:
        if invited_email:
            kwargs["initial"] = {**(kwargs.get("initial") or {}), "email": invited_email}
        super().__init__(*args, **kwargs)
        _time_zone_as_chosen(self)
        # The browser's own (crm.middleware activates it from Accept-Language before sign-in).
        self.fields["date_style"] = date_style = DateStyleField(keep=dateformats.get_style().code)
        self.initial.setdefault("date_style", date_style.keep)
        email = self.fields["email"]
        email.widget.attrs.update({"autocomplete": "email", "autofocus": True})
        self.fields["time_zone"].widget.attrs["data-browser-timezone"] = "1"
        if invited_email:
            # Disabled: the browser does not post it and the form keeps the initial value,
            # whatever a hand-made request posts instead.
            email.disabled = True
            email.help_text = "The address the invitation was sent to. Your account uses it."
            del email.widget.attrs["autofocus"]
            self.fields["display_name"].widget.attrs["autofocus"] = True

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def validate_unique(self) -> None:
        """Skipped on purpose: an error for a taken address would tell anyone who has an account."""


class EmailAuthenticationForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].widget.attrs["autocomplete"] = "email"

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class UserSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = SETTINGS_FIELDS
        widgets: ClassVar[dict[str, type[forms.Widget]]] = {"theme": forms.RadioSelect}
        labels = {
            "display_name": "Display name",
            "time_zone": "Time zone",
            "theme": "Theme",
            "digest": "Email digest",
            "digest_weekday": "On (weekly)",
            "digest_hour": "At",
            "digest_always": "Send even when nothing is due",
            "date_lead_days": "Remind me of birthdays and anniversaries this many days ahead",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _time_zone_as_chosen(self, help_text="Dates, reminders and digests follow this time zone.")
        self.fields["date_style"] = date_style = DateStyleField(keep=self.instance.date_style)
        self.initial["date_style"] = date_style.keep
        # A form posted without it (an older page, a script) keeps the theme already chosen.
        self.fields["theme"].required = False

    def clean_theme(self) -> str:
        return self.cleaned_data.get("theme") or self.instance.theme or User.Theme.SYSTEM

    def clean_date_lead_days(self) -> int:
        value = self.cleaned_data["date_lead_days"]
        if not 0 <= value <= 60:
            raise forms.ValidationError("Choose between 0 and 60 days.")
        return value


class InviteForm(forms.Form):
    email = forms.EmailField(label="Teammate's email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ("name",)
        labels = {"name": "Workspace name"}


class WorkspaceDeleteForm(forms.Form):
    """Typing the name proves the owner means this workspace, not the one they thought."""

    confirm_name = forms.CharField(label="Type the workspace name to confirm", max_length=200)

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off", "placeholder": workspace.name})

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.workspace.name:
            raise forms.ValidationError(f"Type “{self.workspace.name}” exactly to delete this workspace.")
        return value


class QueuedPasswordResetForm(PasswordResetForm):
    """Hands the reset email to the worker: a slow or failing SMTP server never breaks the page.

    Like Django's form, it answers the same whether or not the address has an account.
    """

    def send_mail(
        self, subject_template_name: str, email_template_name: str, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> None:
        from crm import services

        services.password_reset_request(user=context["user"])


class SignupConfirmForm(forms.Form):
    """The password chosen at sign-up, typed again to finish it (see ``signup_confirm``)."""

    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TwoFactorCodeForm(forms.Form):
    """The second step of logging in, and the first code that turns an authenticator on."""

    code = forms.CharField(
        label="Code",
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True, "spellcheck": "false"}
        ),
        help_text="The six digits your authenticator app shows, or one of your recovery codes.",
    )

    def __init__(self, *args: Any, setup: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if setup:
            self.fields["code"].help_text = "The six digits your authenticator app shows for Rapport now."


class AuditFilterForm(forms.Form):
    """The audit log's filters: what, who (an owner's view only), and a range of days."""

    action = forms.ChoiceField(label="What", required=False)
    actor = forms.ModelChoiceField(label="Who", required=False, queryset=User.objects.none(), empty_label="Anyone")
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, workspace: Workspace | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from crm.models import AuditEvent

        form_field(self, "action", forms.ChoiceField).choices = [("", "Everything"), *AuditEvent.Action.choices]
        if workspace is None:
            del self.fields["actor"]
        else:
            actor = form_field(self, "actor", forms.ModelChoiceField)
            actor.queryset = User.objects.filter(memberships__workspace=workspace).order_by("email")
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select" if name in {"action", "actor"} else "form-control"

    def filter_qs(self, qs: Any) -> Any:
        if not self.is_valid():
            return qs
        data = self.cleaned_data
        if data.get("action"):
            qs = qs.filter(action=data["action"])
        if data.get("actor"):
            qs = qs.filter(actor=data["actor"])
        zone = timezone.get_current_timezone()
        if data.get("since"):
            qs = qs.filter(created_at__gte=datetime.combine(data["since"], time.min, tzinfo=zone))
        if data.get("until"):
            qs = qs.filter(created_at__lt=datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=zone))
        return qs


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label="Your password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
