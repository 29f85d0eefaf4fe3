from integrations.base import Capability, CredentialField, FieldKind, Statistic, VendorInfo

INFO = VendorInfo(
    key="statbooks",
    adapter_path="tests.statbooks.adapter.StatbooksAdapter",
    label="Statbooks",
    description="A made-up accounting system that counts work statistics, for the tests.",
    logo="integrations/tripletex/logo.svg",
    required_plan="team",
    credential_fields=(CredentialField("api_key", "API key", kind=FieldKind.SECRET),),
    # It opens each client's own books through the firm's credentials, as Tripletex does.
    capabilities=frozenset({Capability.STATISTICS, Capability.BOOKS_ACCESS}),
    environments=(("live", "Live"),),
    statistics=(
        Statistic("sale_entries", "Sale entries", "Sales vouchers dated in the month.", "/voucher"),
        Statistic(
            "purchase_entries", "Purchase entries", "Purchase vouchers in the month.", "/voucher"
        ),
        Statistic("bank_transactions", "Bank transactions", "Bank lines in the month.", "/bank"),
        Statistic("documents", "Documents", "Vouchers with a document.", "/voucher"),
        Statistic("travel_expenses", "Travel expenses", "Travel reports.", "/travel", False),
        Statistic("payroll", "Payroll vouchers", "Salary runs in the month.", "/salary", False),
    ),
)
