from __future__ import annotations

from django import forms

from crm.formfields import form_field


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. Web shop, Phone system.")
    write = forms.TypedChoiceField(
        label="Access",
        choices=[("0", "Read only"), ("1", "Read and write")],
        coerce=lambda value: value == "1",
        initial="0",
        widget=forms.RadioSelect,
    )
    private = forms.BooleanField(
        label="Private facts too (health, religion, politics, topics to avoid)", required=False
    )

    def __init__(self, *args: object, can_write: bool, can_private: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not can_write:
            del self.fields["write"]
        if not can_private:
            del self.fields["private"]


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="Address", max_length=500, assume_scheme="https", help_text="https://… of your receiver."
    )
    description = forms.CharField(max_length=100, required=False, help_text="e.g. Team chat")
    events = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Send these events")

    def __init__(self, *args: object, choices: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = form_field(self, "events", forms.MultipleChoiceField)
        field.choices = [(key, f"{label} ({key})") for key, label in choices.items()]
