%% Stand-in for shackle_pool: records the options the companion starts its pool with, and
%% refuses a second start of a pool as shackle does.
-module(shackle_pool).

-export([start/4, stop/1]).

start(Name, Client, ClientOpts, PoolOpts) ->
    case persistent_term:get({shackle_pool_standin, Name}, undefined) of
        undefined ->
            persistent_term:put({shackle_pool_standin, Name}, {Client, ClientOpts, PoolOpts}),
            ok;
        _ ->
            {error, pool_already_started}
    end.

stop(Name) ->
    _ = persistent_term:erase({shackle_pool_standin, Name}),
    ok.
