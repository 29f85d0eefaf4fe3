"""Use cases for firms, members, invitations and API tokens: the only code that changes them.

Every function takes the firm (`company`) and, where a person acts, `actor`; views and API views
validate input and call exactly one of these.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import BadHeaderError, send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from uku import audit, registry_numbers
from uku.models import ApiToken, Company, Invitation, Membership, Plan, Role, User, _hash_token
from uku.permissions import ADMIN_ROLES, require
from uku.registry_numbers import DEFAULT_COUNTRY
from uku.validators import single_line, validate_email_address

logger = logging.getLogger(__name__)


def create_company(
    *,
    name: str,
    owner_email: str,
    plan: str = Plan.FREE,
    password: str | None = None,
    organisation_number: str = "",
    country: str = DEFAULT_COUNTRY,
) -> tuple[Company, User, bool]:
    """Create a firm with its owner: an existing user (whose password is left alone: this is not
    a way to take over someone's account), or a new one with `password`.

    Returns (company, owner, user_created). Raises ValidationError for a malformed or too long
    e-mail, an unsupported country or an organisation number not valid in `country`. Not idempotent on its own: callers that must be (the demo seed)
    look the firm up first.
    """
    owner_email = owner_email.strip()
    validate_email_address(owner_email)
    country = (country or DEFAULT_COUNTRY).upper()
    if country not in registry_numbers.SCHEMES:
        raise ValidationError(
            _("%(country)s is not a supported country for registry numbers."),
            code="invalid_country",
            params={"country": country},
        )
    orgnr = registry_numbers.normalise(country, organisation_number)
    registry_numbers.validate(country, orgnr)
    with transaction.atomic():
        company = Company.objects.create(
            name=name, plan=plan, organisation_number=orgnr, country=country
        )
        user = User.objects.filter(email__iexact=owner_email).first()
        created = user is None
        if user is None:
            user = User.objects.create_user(owner_email, password)
        with scope(company=company):
            Membership.objects.create(company=company, user=user, role=Role.OWNER)
    return company, user, created


# --- Members ------------------------------------------------------------------------------------


def _assert_can_manage(company: Company, actor: User, target_role: str | None = None) -> None:
    """Owners and admins manage members; only an owner makes, changes or removes an owner."""
    require(company, actor, roles=ADMIN_ROLES, message=_("Only owners and admins manage members."))
    if target_role == Role.OWNER:
        require(
            company,
            actor,
            roles=(Role.OWNER,),
            message=_("Only an owner can make or change an owner."),
        )


def update_membership(
    *,
    company: Company,
    actor: User,
    membership: Membership,
    role: str | None = None,
    external_id: str | None = None,
) -> Membership:
    """Change a member's role and/or External ID. The last owner cannot stop being an owner."""
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk, company=company)
        old_role = locked.role
        if role is not None and role != locked.role:
            _assert_can_manage(company, actor, target_role=role)
            _assert_can_manage(company, actor, target_role=locked.role)
            if locked.role == Role.OWNER:
                owners = Membership.objects.filter(company=company, role=Role.OWNER).count()
                if owners <= 1:
                    raise ValidationError(
                        {
                            "role": _(
                                "A firm needs at least one owner. Make someone else owner first."
                            )
                        }
                    )
            locked.role = role
        if external_id is not None:
            if actor.pk != locked.user_id:
                _assert_can_manage(company, actor)
            locked.external_id = external_id.strip()
            if (
                locked.external_id
                and Membership.objects.filter(company=company, external_id=locked.external_id)
                .exclude(pk=locked.pk)
                .exists()
            ):
                raise ValidationError({"external_id": _external_id_taken(locked.external_id)})
        try:
            with transaction.atomic():
                locked.save(update_fields=["role", "external_id"])
        except IntegrityError as exc:  # a colleague took the same id at the same moment
            raise ValidationError({"external_id": _external_id_taken(locked.external_id)}) from exc
        if locked.role != old_role:
            audit.record_for(
                locked,
                company=company,
                actor=actor,
                action="member.role_changed",
                details={"old": old_role, "new": locked.role},
            )
    return locked


def _external_id_taken(external_id: str) -> str:
    return _(
        "Another member of this firm already has External ID %(id)s. Each accounting-system "
        "employee can be linked to one member only."
    ) % {"id": external_id}


def remove_member(*, company: Company, actor: User, membership: Membership) -> None:
    """Remove someone from the firm (their user account stays). The last owner cannot be removed."""
    _assert_can_manage(company, actor, target_role=membership.role)
    with transaction.atomic():
        if membership.role == Role.OWNER and (
            Membership.objects.filter(company=company, role=Role.OWNER).count() <= 1
        ):
            raise ValidationError(_("A firm needs at least one owner."))
        revoked = ApiToken.objects.filter(
            company=company, user=membership.user_id, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        audit.record_for(
            membership,
            company=company,
            actor=actor,
            action="member.removed",
            details={"role": membership.role, "api_tokens_revoked": revoked},
        )
        membership.delete()  # apps holding references to the member react to post_delete


# --- Invitations ----------------------------------------------------------------------------------


class InvitationNotSent(Exception):
    """The invitation e-mail could not be sent; nothing was saved. The message says what to do."""


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    accept_url: str


def invite_member(
    *, company: Company, actor: User, email: str, role: str = Role.MEMBER
) -> IssuedInvitation:
    """Invite `email` to the firm with `role` and e-mail them a link. Re-inviting replaces the link.

    Raises PermissionDenied, ValidationError (field `email`), or InvitationNotSent when the mail
    server refuses; then nothing is saved and the previous link, if any, still works.
    """
    _assert_can_manage(company, actor, target_role=role)
    email = email.strip().lower()
    try:
        validate_email_address(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if Membership.objects.filter(company=company, user__email__iexact=email).exists():
        raise ValidationError({"email": _("%(email)s is already a member.") % {"email": email}})
    raw = secrets.token_urlsafe(32)
    url = settings.SITE_URL.rstrip("/") + reverse("accept_invitation", args=[raw])
    # The subject is a header: one line, whatever the firm's name holds.
    subject = single_line(_("You are invited to %(firm)s on uku") % {"firm": company.name})
    body = _(
        "%(inviter)s invited you to join %(firm)s on uku as %(role)s.\n\n"
        "Accept the invitation: %(url)s\n\nThe link works for %(days)s days."
    ) % {
        "inviter": actor,
        "firm": company.name,
        "role": Role(role).label,
        "url": url,
        "days": settings.UKU_INVITATION_DAYS,
    }
    try:
        # Sent inside the transaction: if the mail server refuses, the invitation is not saved,
        # so no half-made invitation (a row nobody was told about) is left behind.
        with transaction.atomic():
            Invitation.objects.filter(
                company=company, email=email, accepted_at__isnull=True
            ).delete()
            invitation = Invitation.objects.create(
                company=company,
                email=email,
                role=role,
                token_hash=_hash_token(raw),
                invited_by=actor,
                expires_at=timezone.now() + timedelta(days=settings.UKU_INVITATION_DAYS),
            )
            # The link's token is the invitation's secret: only the address and role go in.
            audit.record_for(
                invitation,
                company=company,
                actor=actor,
                action="member.invited",
                details={"role": role},
            )
            send_mail(subject, body, None, [email])
    except (BadHeaderError, smtplib.SMTPException, OSError) as exc:
        logger.warning("Invitation e-mail not sent: %s", type(exc).__name__)
        raise InvitationNotSent(
            _(
                "The invitation e-mail could not be sent, so no invitation was made. "
                "Try again in a few minutes."
            )
        ) from exc
    return IssuedInvitation(invitation, url)


def find_invitation(raw_token: str) -> Invitation | None:
    """The pending invitation for a link token, across firms (the link is the credential)."""
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related("company")
            .filter(token_hash=_hash_token(raw_token))
            .first()
        )
    return invitation if invitation and invitation.is_pending else None


def accept_invitation(*, invitation: Invitation, user: User) -> Membership:
    """Add `user` to the invitation's firm. Idempotent: accepting twice returns the same membership."""
    if user.email.lower() != invitation.email.lower():
        raise PermissionDenied(_("This invitation was sent to another e-mail address."))
    company = invitation.company
    with scope(company=company), transaction.atomic():
        membership = Membership.objects.filter(company=company, user=user).first()
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        company=company, user=user, role=invitation.role
                    )
            except IntegrityError:
                membership = Membership.objects.get(company=company, user=user)
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    return membership


def purge_expired_invitations() -> int:
    """Delete invitations that expired unanswered more than a week ago. Safe to run twice."""
    with scopes_disabled():
        deleted, _details = Invitation.objects.filter(
            accepted_at__isnull=True, expires_at__lt=timezone.now() - timedelta(days=7)
        ).delete()
    return deleted


# --- API tokens -----------------------------------------------------------------------------------


def create_api_token(
    *, company: Company, actor: User, name: str, expires_in_days: int = ApiToken.DEFAULT_DAYS
) -> tuple[ApiToken, str]:
    """Create a personal API token for `actor` in `company`. Returns (token row, raw token).

    The raw token is returned exactly once; only its hash is stored. It works for
    `expires_in_days` (1 to `ApiToken.MAX_DAYS`); raises ValidationError otherwise.
    """
    if not 1 <= expires_in_days <= ApiToken.MAX_DAYS:
        raise ValidationError(
            {
                "expires_in_days": _("A token can last from 1 to %(max)s days.")
                % {"max": ApiToken.MAX_DAYS}
            }
        )
    name = name.strip() or _("API token")
    raw, prefix, digest = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            company=company,
            user=actor,
            name=name[:100],
            prefix=prefix,
            token_hash=digest,
            expires_at=timezone.now() + timedelta(days=expires_in_days),
        )
        # The token's name only: neither the raw token nor its hash.
        audit.record_for(
            token,
            company=company,
            actor=actor,
            action="api_token.created",
            details={"expires_at": token.expires_at},
        )
    return token, raw


def revoke_api_token(*, company: Company, actor: User, token: ApiToken) -> None:
    """Revoke one of the actor's own tokens. Idempotent."""
    if token.user_id != actor.pk or token.company_id != company.pk:
        raise PermissionDenied
    with transaction.atomic():
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        ):
            audit.record_for(token, company=company, actor=actor, action="api_token.revoked")
