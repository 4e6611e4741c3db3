"""Sink types (configuration-sinks-*.rst; spec §14)."""

from __future__ import annotations

from runtime.config.catalog.base import BOOL, DICT, INT, LIST, NULL, NUM, STR, STRS, kind, p
from runtime.config.catalog.pipe import TRACE
from runtime.config.catalog.sources import SQL_SYSTEMS, URL_SYSTEMS

COMMON = (p("type", STR, req=True), p("comment", STRS), p("name", STR),
          # (ours) accepted here as well as on the pipe, where the spec puts it
          p("remove_namespaces", BOOL))
_PUBLISHER = (p("filename", STR), p("content_disposition", STR, "attachment"))
_TEMPLATED = ("body_template", "subject_template", "text_body_template", "recipients")


def _sink(name, *props, base=COMMON, **kw):
    return kind("sink", name, *props, base=base, **kw)


_DATASET_COMMON = (
    p("dataset", STR),  # the pipe `_id` when absent (filled as a default)
    p("set_initial_offset", STR, "if-source-populated",
      enum=("if-source-populated", "never", "always", "initially", "onload",
           "if-sink-empty")),
    p("indexes", STRS, []), p("bitset_commit_interval", INT, 1000000, min=1),
)

SINKS = {k.name: k for k in (
    _sink("dataset", *_DATASET_COMMON,
          p("track_children", BOOL), p("enable_optimistic_locking", BOOL, False),
          p("circuit_breaker_threshold_factor", NUM | NULL, None),
          p("circuit_breaker_threshold_count", INT | NULL, None),
          p("deletion_tracking", BOOL, True), p("mark_deletion_tracked", BOOL, False),
          p("prevent_multiple_versions", BOOL | STR, False),
          p("suppress_filtered", BOOL), p("max_entity_bytes_size", INT, 104857600),
          writes="dataset"),
    _sink("http_endpoint", *_PUBLISHER, pumped=False),
    _sink("json", p("system", STR, req=True), p("url", STR, req=True), p("headers", DICT),
          p("batch_size", INT, 100, min=1), system_kinds=URL_SYSTEMS),
    # (ours) a CSV file through a url system with a `file:` url pattern
    _sink("csv", p("system", STR, req=True), p("url", STR, req=True), p("columns", LIST),
          p("quoting", STR, "minimal", enum=("all", "minimal", "nonnumeric", "none")),
          p("delimiter", STR, ","), p("doublequote", BOOL, True), p("include_header", BOOL, True),
          p("escapechar", STR | NULL, None), p("lineterminator", STR, "\r\n"),
          p("quotechar", STR, '"'), p("byte_order_mark", BOOL, False), p("encoding", STR, "utf-8"),
          p("encode_error_strategy", STR, "backslashreplace",
            enum=("strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace")),
          p("skip-deleted-entities", BOOL, True), system_kinds=URL_SYSTEMS),
    _sink("csv_endpoint", p("columns", LIST, req=True),
          p("quoting", STR, "minimal", enum=("all", "minimal", "nonnumeric", "none")),
          p("delimiter", STR, ","), p("doublequote", BOOL, True), p("include_header", BOOL, True),
          p("escapechar", STR | NULL, None), p("lineterminator", STR, "\r\n"),
          p("quotechar", STR, '"'), p("byte_order_mark", BOOL, False), p("encoding", STR, "utf-8"),
          p("encode_error_strategy", STR, "backslashreplace",
            enum=("strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace")),
          p("skip-deleted-entities", BOOL, True), *_PUBLISHER, pumped=False),
    _sink("sql", p("system", STR, req=True), p("table", STR, req=True), p("primary_key", STRS),
          p("schema", STR), p("batch_size", INT, min=1),
          p("timestamp", STR | NULL, "sesam-timestamp"),
          p("create_table_if_missing", BOOL, False), p("recreate_table_on_first_run", BOOL, False),
          p("truncate_table_on_first_run", BOOL, False), p("schema_definition", LIST),
          p("skip_identity_columns", BOOL, False), p("remove_pk_char_trailing_spaces", BOOL, True),
          p("whitelist", LIST), p("blacklist", LIST),
          p("use_bulk_operations", BOOL, False), p("bulk_schema", STR),
          p("keep_failed_bulk_operation_files", BOOL, False),
          p("bulk_operation_timeout", INT, 600), p("bulk_operation_queue_size", INT, 3),
          p("bulk_operation_buffer_size", INT, 50000000),
          system_kinds=SQL_SYSTEMS),
    _sink("null"),
    _sink("conditional", p("condition", STR, req=True), p("alternatives", DICT, req=True),
          base=(p("type", STR, req=True), p("comment", STRS))),
    _sink("xml_endpoint", p("wrapper", STR), p("root-attributes", DICT),
          p("include-xml-decl", BOOL, False), p("skip-deleted-entities", BOOL, True),
          p("byte_order_mark", BOOL, False), *_PUBLISHER, priority="P2", pumped=False),
    _sink("replicated_dataset", *_DATASET_COMMON, p("change_tracking", BOOL, True),
          p("allow_normal_dataset", BOOL, False),
          p("auto_migrate_to_replicated_dataset", BOOL, False), priority="P2", writes="dataset"),
    _sink("rest", p("system", STR, req=True), p("operation", STR), p("operations", DICT),
          p("properties", DICT), p("payload", STR | DICT | LIST), *TRACE,
          p("rate_limiting_retries", INT), p("rate_limiting_delay", INT, 1),
          priority="P2", system_kinds=("rest",)),
    _sink("kafka", p("system", STR, req=True), p("topic", STR, req=True),
          p("key_serializer", STR, "string"), p("value_serializer", STR, "json"),
          p("strategy", STR, "key-value"), p("delivery_timeout_ms", INT, 120000),
          priority="P3", system_kinds=("kafka",)),
    _sink("elasticsearch", p("system", STR, req=True), p("default_index", STR | NULL),
          p("default_type", STR | NULL), p("index_mapping_properties", DICT | NULL),
          p("index_check_document", STR | NULL), p("first_run_delete_query", DICT | NULL),
          priority="P3", system_kinds=("elasticsearch",)),
    _sink("solr", p("system", STR, req=True), p("commit_within", INT | NULL),
          p("commit_at_end", BOOL, True), priority="P3", system_kinds=("solr",)),
    _sink("mail", p("system", STR, req=True), p("mail_from", STR),
          *(p(t, STR) for t in _TEMPLATED), *(p(f"{t}_property", STR, t) for t in _TEMPLATED),
          p("unhandled_template_variable_replacement", STR, "debug"),
          priority="P3", system_kinds=("smtp",)),
    _sink("sms", p("system", STR, req=True), p("from_number", STR),
          p("body_template", STR), p("recipients", STR),
          p("body_template_property", STR, "body_template"),
          p("recipients_property", STR, "recipients"),
          priority="P3", system_kinds=("twilio",)),
    _sink("sdshare", p("system", STR, req=True), p("url", STR, req=True), p("graph", STR),
          priority="P3", system_kinds=URL_SYSTEMS),
    _sink("sparql", p("url", STR, req=True), p("update_url", STR), p("system", STR),
          p("graph", STR), p("do_diff", BOOL, False), p("write_sdshare_updated", BOOL, True),
          priority="P3", system_kinds=URL_SYSTEMS),
)}


