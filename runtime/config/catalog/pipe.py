"""The pipe, its pump and the service metadata entity (configuration-pipes/-pump/-metadata)."""

from __future__ import annotations

from runtime.config.catalog.base import BOOL, DICT, FLOAT, INT, LIST, NULL, NUM, STR, STRS, kind, p

_COMPACTION = (
    p("compaction.automatic", BOOL, True), p("compaction.sink", BOOL, True),
    p("compaction.keep_versions", INT, 2, min=0),
    p("compaction.time_threshold_hours", INT | NULL, None),
    p("compaction.time_threshold_hours_pump", INT, 720),
    p("compaction.growth_threshold", NUM, 1.0, min=1.0),
    p("compaction.compaction_interval", NUM, 0, min=0),
    p("compaction.ttl_deletes_hours", INT | NULL, None),
    p("compaction.ttl_deletes_timeout_seconds", INT, 60),
    p("compaction.retract", BOOL, False),
    p("compaction.retract_timeout_seconds", INT, 60),
)

_DEPENDENCY_TRACKING = (
    p("dependency_tracking.dependency_warning_threshold", INT, 10000),
    p("dependency_tracking.dependency_error_threshold", INT, 50000),
    p("dependency_tracking.dependency_warning_threshold_total_bytes", INT, 33554432),
    p("dependency_tracking.dependency_error_threshold_total_bytes", INT, 134217728),
    p("dependency_tracking.enable_hops_thresholds", BOOL, False),
)

_ACL = LIST  # [["allow"|"deny", [principals], [permissions]], ...]; shape checked by the validator

PIPE = kind(
    "pipe", "pipe",
    p("_id", STR, req=True), p("type", STR, req=True),
    p("name", STR), p("description", STRS), p("comment", STRS), p("permissions", _ACL),
    p("metadata", DICT),
    # source, transform, sink and pump are validated against their own kinds
    p("source", DICT, req=True), p("transform", DICT | LIST), p("sink", DICT), p("pump", DICT),
    # the default depends on the sink (1 for rest): filled by the defaults module
    p("batch_size", INT, min=1),
    p("checkpoint_interval", INT, min=1),
    p("disable_set_last_seen", BOOL, False),
    p("enable_background_rescan", BOOL, False),
    p("rescan_when_config_changes", BOOL, False),
    p("reprocessing_policy", STR, "continue", enum=("continue", "automatic")),
    p("infer_pipe_entity_types", BOOL, True),
    *_DEPENDENCY_TRACKING,
    p("exclude_completeness", LIST, []),
    p("include_completeness", LIST),
    p("namespaced_identifiers", BOOL),
    p("namespaces.identity", STR), p("namespaces.property", STR),
    p("add_namespaces", BOOL), p("remove_namespaces", BOOL),
    *_COMPACTION,
)

PUMP = kind(
    "pump", "pump",
    p("comment", STRS), p("name", STR), p("description", STRS),
    p("schedule_interval", NUM, min=0),
    p("cron_expression", STR),
    p("rescan_run_count", INT, min=1), p("rescan_cron_expression", STR),
    p("partial_rescan_run_count", INT, min=1), p("partial_rescan_delta", INT, min=1),
    p("run_at_startup", BOOL, False), p("run_at_startup_if_not_populated", BOOL, False),
    p("mode", STR, "scheduled", enum=("scheduled", "manual", "off")),
    p("max_read_retries", INT, 0, min=0), p("read_retry_delay", NUM, 0, min=0),
    p("write_retry_delay", NUM, 0, min=0),
    p("max_consecutive_write_errors", INT, 1, min=0),
    p("max_retries_per_entity", INT, 5, min=0),
    p("max_write_errors_in_retry_dataset", INT, 0, min=0),
    p("batch_retries", INT, 3, min=0),
    p("fallback_to_single_entities_on_batch_fail", BOOL, True),
    p("use_dead_letter_dataset", BOOL),  # deprecated; accepted
    p("dead_letter_dataset", STR),
    p("track_dead_letters", BOOL, False),
    p("max_seconds_per_entity", NUM),
    p("log_events_noop_runs", BOOL, False),
    p("log_events_noop_runs_changes_only", BOOL, True),
    p("notification_granularity", INT, 999999999999999),
)

TRACE = (
    p("trace", BOOL | DICT, False),
    p("trace.log_request_headers", BOOL, True),
    p("trace.log_request_body_maxsize", INT, 100),
    p("trace.log_response_headers", BOOL, True),
    p("trace.log_response_body_maxsize", INT, 100),
    p("trace.log_secret_redacted_bytes", INT, 600),
)

METADATA = kind(
    "metadata", "metadata",
    p("_id", STR, req=True), p("type", STR, req=True),
    p("name", STR), p("description", STRS), p("comment", STRS),
    p("namespaced_identifiers", BOOL, False),
    p("namespaces.default", DICT),
    # (ours) more folders that file: urls and sqlite files may use (runtime/confine.py)
    p("file_roots", STRS),
    p("$config-group", STR),
    p("global_defaults.use_signalling_internally", BOOL, True),
    p("global_defaults.default_compaction_type", STR, "sink", enum=("sink", "background")),
    p("global_defaults.compaction_interval", NUM),
    p("global_defaults.compaction_keep_versions", INT, min=0),
    p("global_defaults.compaction_time_threshold_hours", INT),
    p("global_defaults.compaction_time_threshold_hours_pump", INT),
    p("global_defaults.compaction_growth_threshold", FLOAT | INT, min=1.0),
    p("global_defaults.max_entity_bytes_size", INT),
    p("global_defaults.run_at_startup_if_not_populated", BOOL),
    p("global_defaults.infer_pipe_entity_types", BOOL),
    p("global_defaults.use_config_circuit_breaker", BOOL, False),
    p("global_defaults.reprocessing_policy", STR, enum=("continue", "automatic")),
    p("global_defaults.rescan_when_config_changes", BOOL),
    p("global_defaults.enable_background_rescan", BOOL),
    p("global_defaults.eager_load_microservices", BOOL),
    p("global_defaults.symmetric_namespace_collapse", BOOL, False),
    p("global_defaults.max_merged", INT, min=1),
    p("global_defaults.always_index_ids", BOOL),
    p("global_defaults.if_source_empty", STR, enum=("accept", "fail")),
    p("global_defaults.require_populated_input", BOOL),
    *(p("global_defaults." + x.name, x.types) for x in TRACE),
    p("global_defaults.verify_ssl", BOOL),
    *_DEPENDENCY_TRACKING,
    p("task_manager.disable_pump_scheduler", BOOL, False),
    p("task_manager.disable_user_pipes", BOOL, False),
)

# global_defaults keys that set same-named pipe/pump/source/sink/system settings: the rest are
# service-level switches read by the runtime from `Metadata.global_defaults`.
GLOBAL_DEFAULT_TARGETS = {
    "infer_pipe_entity_types": "pipe", "reprocessing_policy": "pipe",
    "rescan_when_config_changes": "pipe", "enable_background_rescan": "pipe",
    "run_at_startup_if_not_populated": "pump",
    "if_source_empty": "source", "require_populated_input": "source", "max_merged": "source",
    "trace": "source", "max_entity_bytes_size": "sink", "verify_ssl": "system",
}

__all__ = ["PIPE", "PUMP", "METADATA", "GLOBAL_DEFAULT_TARGETS", "TRACE"]
