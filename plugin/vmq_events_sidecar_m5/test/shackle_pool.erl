%% Stand-in for shackle_pool: records the options the companion starts its pool with.
-module(shackle_pool).

-export([start/4, stop/1]).

start(Name, Client, ClientOpts, PoolOpts) ->
    persistent_term:put({shackle_pool_standin, Name}, {Client, ClientOpts, PoolOpts}),
    ok.

stop(Name) ->
    _ = persistent_term:erase({shackle_pool_standin, Name}),
    ok.
