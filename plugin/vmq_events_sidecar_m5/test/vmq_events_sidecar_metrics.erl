%% Stand-in for vmq_events_sidecar's metrics module: counts in a public ETS table the test owns.
-module(vmq_events_sidecar_metrics).

-export([incr_sidecar_events/1, incr_sidecar_events_error/1]).

incr_sidecar_events(Hook) -> incr({sidecar_events, Hook}).

incr_sidecar_events_error(Hook) -> incr({sidecar_events_error, Hook}).

incr(Key) ->
    ets:update_counter(vmq_events_sidecar_metrics_standin, Key, 1, {Key, 0}),
    ok.
