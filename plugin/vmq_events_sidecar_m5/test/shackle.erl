%% Stand-in for the broker's shackle (lpgauth/shackle) in the companion's tests: cast/3 hands
%% the request to the process the test registered for the pool, or refuses as shackle does when
%% the test set an error.
-module(shackle).

-export([cast/3]).

cast(Pool, Request, undefined) ->
    case persistent_term:get({shackle_standin, Pool}, undefined) of
        undefined -> {error, shackle_not_started};
        {error, Reason} -> {error, Reason};
        Pid when is_pid(Pid) ->
            Pid ! {shackle_cast, Pool, Request},
            {ok, {self(), make_ref()}}
    end.
