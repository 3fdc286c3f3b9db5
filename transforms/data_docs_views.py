"""The Data Docs' page views: Great Expectations' own, with compiled templates kept.

Each GX view makes its own Jinja environment, so a run compiled the same templates once per
docs section and again for the index (34 compilations, ~1/3 of writing a run's Data Docs,
in the thread that competes with publish for the GIL: transforms/validation.py). These
views share one in-memory bytecode cache for the process: a template is compiled once and
its code reused while its source is the same (Jinja keys it by name and checks the source's
checksum). The pages are the same bytes. Named in the site's configuration
(`validation.DOCS_SITE`), so this module, and GX's import with it, loads only with the docs.
"""

import threading

import jinja2
from great_expectations.render.view.view import DefaultJinjaIndexPageView, DefaultJinjaPageView


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates by Jinja's key, with the checksum of the source they came from."""

    def __init__(self) -> None:
        self._code: dict[str, tuple[str, object]] = {}  # code objects: immutable, shared by threads
        self._lock = threading.Lock()  # two runs in one process may write Data Docs at once

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            checksum, code = self._code.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            self._code[bucket.key] = (bucket.checksum, bucket.code)

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        """How many templates are kept compiled."""
        return len(self._code)


COMPILED = _CompiledTemplates()


class _KeepsCompiled:
    """A GX view whose Jinja environment uses COMPILED."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.env.bytecode_cache = COMPILED


class PageView(_KeepsCompiled, DefaultJinjaPageView):
    pass


class IndexPageView(_KeepsCompiled, DefaultJinjaIndexPageView):
    pass
