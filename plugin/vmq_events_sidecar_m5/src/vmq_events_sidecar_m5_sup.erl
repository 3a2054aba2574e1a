%% Starts the companion's shackle pool: its own connections to the sidecar, at the address
%% vmq_events_sidecar uses unless the companion's own environment names one.
-module(vmq_events_sidecar_m5_sup).

-include("vmq_events_sidecar_m5.hrl").

-behaviour(supervisor).

-export([start_link/0, init/1, pool_options/0]).

start_link() ->
    supervisor:start_link({local, ?MODULE}, ?MODULE, []).

init([]) ->
    {ClientOpts, PoolOpts} = pool_options(),
    %% A pool left from an earlier start (the application restarted without its stop/1) is reused.
    case shackle_pool:start(?POOL, vmq_events_sidecar_m5_client, ClientOpts, PoolOpts) of
        ok -> ok;
        {error, pool_already_started} -> ok
    end,
    {ok, {#{strategy => one_for_one, intensity => 1, period => 5}, []}}.

%% hostname and port: the companion's setting, else vmq_events_sidecar's, else its default.
pool_options() ->
    Get = fun(Key, Default) ->
        case application:get_env(vmq_events_sidecar_m5, Key) of
            {ok, V} -> V;
            undefined -> application:get_env(vmq_events_sidecar, Key, Default)
        end
    end,
    ClientOpts = [
        {address, Get(hostname, "127.0.0.1")},
        {port, Get(port, 8890)},
        {protocol, shackle_tcp}
    ],
    PoolOpts = [
        {pool_size, application:get_env(vmq_events_sidecar_m5, pool_size, 10)},
        {backlog_size, application:get_env(vmq_events_sidecar_m5, backlog_size, 4096)}
    ],
    {ClientOpts, PoolOpts}.
