from integrations.base import Capability, CredentialField, FieldKind, VendorInfo

INFO = VendorInfo(
    key="fakeinvoices",
    adapter_path="tests.fakeinvoices.adapter.FakeInvoicesAdapter",
    label="Fake Invoices",
    description="A made-up accounting system that receives invoices, for the tests.",
    logo="integrations/tripletex/logo.svg",
    required_plan="team",
    credential_fields=(
        CredentialField("api_key", "API key", kind=FieldKind.SECRET),
        CredentialField("store", "Store file", kind=FieldKind.TEXT),
    ),
    capabilities=frozenset({Capability.INVOICE_EXPORT, Capability.INVOICE_STATUS}),
    environments=(("production", "Production"),),
    exported_as="Exported as bill #%(number)s",
)
