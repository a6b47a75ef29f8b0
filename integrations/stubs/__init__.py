"""Rule-enforcing stand-ins for outside systems, each keeping its own `ext_` tables."""
from integrations.stubs.announcement import AnnouncementPortalStub
from integrations.stubs.contractor_registry import ContractorRegistryStub
from integrations.stubs.financial import FinancialSystemStub
from integrations.stubs.notifications import SmsOutboxStub
from integrations.stubs.project_control import ProjectControlStub
from integrations.stubs.transparency import TransparencyPublisherStub
from store.stub_tables import StubBase, create_stub_tables, sqlite_engine

__all__ = ["AnnouncementPortalStub", "ContractorRegistryStub", "FinancialSystemStub", "SmsOutboxStub",
           "ProjectControlStub", "StubBase", "TransparencyPublisherStub", "create_stub_tables",
           "sqlite_engine"]
