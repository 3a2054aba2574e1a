%% shackle client of the companion's pool: encodes each event into a frame in the pool's
%% connection process (not in the MQTT session that cast it) and sends it; reads nothing back,
%% like vmq_events_sidecar's own client.
-module(vmq_events_sidecar_m5_client).

-export([init/1, setup/2, handle_request/2, handle_data/2, terminate/1]).

init(_Opts) -> {ok, undefined}.

setup(_Socket, State) -> {ok, State}.

%% No request id: fire and forget, nothing awaits an answer.
handle_request(Event, State) ->
    {ok, undefined, vmq_events_sidecar_m5_format:frame(Event), State}.

handle_data(_Data, State) -> {ok, [], State}.

terminate(_State) -> ok.
