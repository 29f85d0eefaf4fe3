from integrations.base import CredentialField, FieldKind, VendorInfo

INFO = VendorInfo(
    key="fakebooks",
    adapter_path="tests.fakebooks.adapter.FakebooksAdapter",
    label="Fakebooks",
    description="A made-up accounting system for the tests.",
    logo="integrations/tripletex/logo.svg",
    required_plan="team",
    credential_fields=(
        CredentialField("api_id", "API ID", kind=FieldKind.TEXT, help_text="Settings → API."),
        CredentialField("api_key", "API key", kind=FieldKind.SECRET),
    ),
    capabilities=frozenset(),
    environments=(("ee", "Estonia"), ("fi", "Finland")),
    environment_label="Country",
    credentials_expire=False,
)
