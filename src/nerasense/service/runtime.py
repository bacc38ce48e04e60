"""Opening what the service runs on: the database (migrated to the newest schema), the file store and the
knowledge base. Shared by the app, the ``serve``/``users``/``audit`` commands and the tests."""

from __future__ import annotations

from nerasense.knowledge import default_knowledge
from nerasense.knowledge.genomics import GenomicsKnowledge
from nerasense.service.cases import Context
from nerasense.service.compute import Compute
from nerasense.service.db import Database
from nerasense.service.migrate import upgrade
from nerasense.service.settings import Settings
from nerasense.service.storage import Store


def open_database(settings: Settings, migrate: bool = True) -> Database:
    db = Database(settings.url)
    if migrate:
        upgrade(db.engine)
    return db


def open_context(settings: Settings) -> Context:
    kb = default_knowledge()
    gk = GenomicsKnowledge(kb)
    compute = Compute(kb, gk, settings.compute_workers, settings.compute_nice)
    return Context(open_database(settings), Store(settings.data_dir / "files"), kb, gk, compute=compute)
