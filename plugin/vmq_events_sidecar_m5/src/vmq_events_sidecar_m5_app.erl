-module(vmq_events_sidecar_m5_app).

-behaviour(application).

-export([start/2, stop/1]).

start(_StartType, _StartArgs) ->
    vmq_events_sidecar_m5_sup:start_link().

stop(_State) ->
    _ = shackle_pool:stop(vmq_events_sidecar_m5),
    ok.
