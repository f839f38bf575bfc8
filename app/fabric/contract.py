"""A smart contract within a chaincode: evaluating and submitting its transaction functions.

Owns ``Contract``. Mirrors Go ``pkg/client/contract.go`` and Node ``node/src/contract.ts``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .client import GatewayClient
from .commit import SubmittedTransaction
from .errors import CommitError
from .proposal import Proposal
from .proposalbuilder import Argument, chaincode_header_extension, new_proposed_transaction
from .signingidentity import SigningIdentity

__all__ = ["Contract"]


class Contract:
    """Transaction functions of one chaincode (and optionally one named contract within it) on one channel.

    Function names are qualified as ``contract_name:name`` when a contract name is set. Arguments are ``str`` (sent
    as UTF-8) or ``bytes``.
    """

    def __init__(
        self,
        client: GatewayClient,
        signing_identity: SigningIdentity,
        channel_name: str,
        chaincode_name: str,
        contract_name: str | None = None,
    ) -> None:
        self._client = client
        self._signing_identity = signing_identity
        self._channel_name = channel_name
        self._chaincode_name = chaincode_name
        self._contract_name = contract_name or None
        self._header_extension = chaincode_header_extension(chaincode_name)

    @property
    def chaincode_name(self) -> str:
        """Name of the chaincode."""
        return self._chaincode_name

    @property
    def contract_name(self) -> str | None:
        """Name of the contract within the chaincode, if any."""
        return self._contract_name

    def evaluate_transaction(self, name: str, *args: Argument) -> bytes:
        """Evaluate a transaction function (a query) and return its result. Raises ``GatewayError``."""
        return self.new_proposal(name, arguments=args).evaluate()

    def submit_transaction(self, name: str, *args: Argument) -> bytes:
        """Submit a transaction function, wait until it commits and return its result.

        Raises, by stage: ``EndorseError`` (endorse), ``SubmitError`` (submit to the orderer),
        ``CommitStatusError`` (waiting for the commit status), ``CommitError`` (committed as invalid, e.g.
        MVCC_READ_CONFLICT).
        """
        return self.submit(name, arguments=args)

    def evaluate(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient_data: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
    ) -> bytes:
        """Evaluate with full options; ``endorsing_organizations`` limits which orgs' peers are asked.

        Raises ``GatewayError``.
        """
        return self.new_proposal(
            name,
            arguments=arguments,
            transient_data=transient_data,
            endorsing_organizations=endorsing_organizations,
        ).evaluate()

    def submit(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient_data: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
    ) -> bytes:
        """Submit with full options, wait until committed and return the result.

        ``endorsing_organizations`` bypasses the gateway's policy planning: a set that does not satisfy the policy
        is accepted and then invalidated as ENDORSEMENT_POLICY_FAILURE.

        Raises, by stage: ``EndorseError`` (endorse), ``SubmitError`` (submit to the orderer),
        ``CommitStatusError`` (waiting for the commit status), ``CommitError`` (committed as invalid, e.g.
        MVCC_READ_CONFLICT; no result is returned).
        """
        submitted = self.submit_async(
            name,
            arguments=arguments,
            transient_data=transient_data,
            endorsing_organizations=endorsing_organizations,
        )
        status = submitted.get_status()
        if not status.successful:
            raise CommitError(status.code, status.transaction_id)
        return submitted.result

    def submit_async(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient_data: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
    ) -> SubmittedTransaction:
        """Endorse and submit, returning as soon as the orderer accepted the transaction.

        The returned ``SubmittedTransaction`` has the ``result`` at once; ``get_status()`` waits for the commit and
        never raises for an invalid transaction (check ``successful``); it raises ``CommitStatusError`` if the call
        fails. This method raises ``EndorseError`` (endorse) or ``SubmitError`` (submit to the orderer).
        """
        proposal = self.new_proposal(
            name,
            arguments=arguments,
            transient_data=transient_data,
            endorsing_organizations=endorsing_organizations,
        )
        return proposal.endorse().submit()

    def new_proposal(
        self,
        name: str,
        *,
        arguments: Iterable[Argument] = (),
        transient_data: Mapping[str, Argument] | None = None,
        endorsing_organizations: Iterable[str] | None = None,
    ) -> Proposal:
        """Build a ``Proposal`` for full control: offline signing, or separate evaluate/endorse/submit steps."""
        function_name = f"{self._contract_name}:{name}" if self._contract_name else name
        proposed = new_proposed_transaction(
            self._signing_identity.creator,
            self._channel_name,
            self._chaincode_name,
            self._header_extension,
            function_name,
            arguments,
            transient_data,
            endorsing_organizations,
        )
        return Proposal(self._client, self._signing_identity, self._channel_name, proposed)
