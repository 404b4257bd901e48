"""The conformance suite: every case on every installed backend, one test id per cell
(entry × backend × dtype × value/grad). Backends whose framework is not importable are
reported as skipped with the import error's first line."""
