"""Source types (configuration-sources-*.rst; priorities from the spec §12)."""

from __future__ import annotations

from runtime.config.catalog.base import BOOL, DICT, INT, LIST, NUM, STR, STRS, kind, p
from runtime.config.catalog.pipe import TRACE

URL_SYSTEMS = ("url", "microservice")
SQL_SYSTEMS = ("postgresql", "mysql", "sqlite", "mssql", "oracle", "oracle_tns", "sql")

COMMON = (
    p("type", STR, req=True), p("comment", STRS), p("name", STR),
    p("supports_since", BOOL), p("is_since_comparable", BOOL), p("is_chronological", BOOL),
    p("initial_since_value", INT | STR), p("updated_expression", STR),
    p("since_property_name", STR), p("since_property_location", STR),
    p("if_source_empty", STR, "accept", enum=("accept", "fail")),
    # (ours) accepted here as well as on the pipe, where the spec puts it
    p("add_namespaces", BOOL),
)
READS_DATASETS = (
    p("supports_signalling", BOOL, False), p("require_populated_input", BOOL, False),
)
MULTI = (
    p("initial_datasets", LIST), p("ignore_non_existent_datasets", BOOL, True),
)


def _src(name, *props, base=COMMON, **kw):
    return kind("source", name, *props, base=base, **kw)


SOURCES = {k.name: k for k in (
    _src("dataset",
         p("dataset", STR, req=True), p("subset", LIST),
         p("completeness", BOOL | DICT | LIST, False), p("initial_completeness", LIST),
         p("include_previous_versions", BOOL, False), p("include_replaced", BOOL, True),
         base=COMMON + READS_DATASETS, continuation=(True, True, True), reads="dataset"),
    _src("embedded", p("entities", LIST, req=True, opaque=True), p("system", STR),
         continuation=(False, True, False)),
    _src("merge",
         p("datasets", STRS, req=True), p("version", NUM, 1, enum=(1, 2)),
         p("equality", LIST, []), p("equality_sets", LIST),
         p("identity", STR, "composite", enum=("composite", "first")),
         p("strategy", STR, "default", enum=("default", "compact", "list")),
         p("include_internal_properties", BOOL, False), p("max_merged", INT, 50000, min=1),
         base=COMMON + READS_DATASETS + MULTI, continuation=(True, True, True),
         reads="datasets"),
    _src("http_endpoint",
         p("auto_populate_dataset", BOOL, True), p("do_float_as_decimal", BOOL, True),
         p("do_float_as_int", BOOL, True), *TRACE, p("validation_expression", STR),
         continuation=(False, True, False), pumped=False),
    _src("json", p("system", STR, req=True), p("url", STR, req=True), p("headers", DICT),
         p("page_size", INT, min=1), p("subset", LIST), p("supports_signalling", BOOL, False),
         system_kinds=URL_SYSTEMS, continuation=(False, True, False)),
    _src("sql", p("system", STR, req=True), p("table", STR), p("query", STRS),
         p("primary_key", STRS), p("updated_column", STR), p("updated_query", STRS),
         p("schema", STR), p("whitelist", LIST), p("blacklist", LIST),
         p("preserve_null_values", BOOL, False), p("fetch_size", INT, 1000, min=1),
         p("is_chronological_full", BOOL),
         one_of=(("table", "query"),), system_kinds=SQL_SYSTEMS,
         continuation=(False, True, False)),
    _src("csv", p("system", STR, req=True), p("url", STR, req=True),
         p("has_header", BOOL, True), p("field_names", LIST), p("auto_dialect", BOOL, True),
         p("dialect", STR, enum=("excel", "excel_tab", "unix_dialect")),
         p("encoding", STR, "utf-8"),
         p("decode_error_strategy", STR, "strict", enum=("strict", "replace", "ignore")),
         p("primary_key", STRS, req=True), p("whitelist", LIST), p("blacklist", LIST),
         p("preserve_empty_strings", BOOL, False), p("delimiter", STR, ","),
         p("escape_null_bytes", BOOL, False),
         system_kinds=URL_SYSTEMS, continuation=(False, True, False)),
    _src("conditional", p("condition", STR, req=True), p("alternatives", DICT, req=True),
         base=(p("type", STR, req=True), p("comment", STRS))),
    _src("empty", priority="P2", continuation=(False, True, True)),
    _src("merge_datasets", p("datasets", STRS, req=True),
         p("strategy", STR, "latest", enum=("latest", "all")),
         base=COMMON + READS_DATASETS + MULTI, priority="P2",
         continuation=(True, True, True), reads="datasets"),
    _src("union_datasets", p("datasets", STRS, req=True),
         p("include_previous_versions", BOOL, False), p("prefix_ids", BOOL, True),
         base=COMMON + READS_DATASETS + MULTI, priority="P2",
         continuation=(True, True, True), reads="datasets"),
    _src("diff_datasets", p("datasets", STRS, req=True),
         base=COMMON + READS_DATASETS + MULTI, priority="deprecated", reads="datasets"),
    _src("rest", p("system", STR, req=True), p("operation", STR, req=True),
         p("operations", DICT), p("properties", DICT), p("payload", STR | DICT | LIST),
         p("payload_property", STR), p("id_expression", STR),
         p("response_property", STR), p("response_headers_property", STR),
         p("response_include_content_type", BOOL, False),
         p("rate_limiting_retries", INT), p("rate_limiting_delay", INT, 1), *TRACE,
         priority="P2", system_kinds=("rest",), continuation=(False, True, False)),
    _src("kafka", p("system", STR, req=True), p("topic", STR, req=True),
         p("partitions", LIST), p("seek_to_beginning", BOOL, True),
         p("key_deserializer", STR, "string"), p("value_deserializer", STR, "json"),
         p("strategy", STR, "key-value", enum=("key-value", "value")),
         p("strict", BOOL, True), p("consumer_timeout_ms", INT, 10000),
         priority="P3", system_kinds=("kafka",)),
    _src("binary", p("system", STR, req=True), p("url", STR, req=True),
         p("page_size", INT, min=1), p("subset", LIST), p("supports_signalling", BOOL, False),
         priority="P3", system_kinds=URL_SYSTEMS),
    _src("ldap", p("system", STR, req=True), p("search_base", STR, "*"),
         p("search_filter", STR), p("attributes", STRS, "*"), p("id_attribute", STR, "cn"),
         p("page_size", INT, 500), p("attribute_blacklist", LIST, []),
         priority="P3", system_kinds=("ldap",)),
    _src("rdf", p("system", STR, req=True), p("url", STR, req=True), p("format", STR, "nt"),
         p("sort_lists", BOOL, True), p("is_sorted", BOOL, False),
         priority="P3", system_kinds=URL_SYSTEMS),
    _src("sdshare", p("system", STR, req=True), p("url", STR, req=True),
         p("sort_lists", BOOL, True), priority="P3", system_kinds=URL_SYSTEMS),
    _src("sparql", p("system", STR, req=True), p("fragments_query", STRS, req=True),
         p("fragment_query", STRS, req=True), priority="P3", system_kinds=URL_SYSTEMS),
)}
