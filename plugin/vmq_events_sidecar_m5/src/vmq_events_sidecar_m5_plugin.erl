%% The _m5 notification hooks VerneMQ runs for MQTT 5 sessions (vmq_mqtt5_fsm), which
%% vmq_events_sidecar does not implement, reported to the sidecar as events of proto/mqtt5/.
%%
%% Each hook runs in the client's session process. It only reads two ETS tables, builds a tuple
%% and casts it to the companion's shackle pool (a message send; shackle refuses at once when a
%% connection's backlog is full or no connection is up). Encoding and socket writes happen in
%% the pool's processes, never in the session.
-module(vmq_events_sidecar_m5_plugin).

-include("vmq_events_sidecar_m5.hrl").

-export([
    on_register_m5/4,
    on_publish_m5/6,
    on_publish_m5/7,
    on_subscribe_m5/4,
    on_unsubscribe_m5/4,
    on_deliver_m5/7,
    on_message_drop/3
]).

%% Exported for the tests.
-export([user_properties/2, unword/1, subscription/1]).

%% called through vmq_plugin:all
-spec on_register_m5(peer(), subscriber_id(), username(), properties()) -> next.
on_register_m5({IP, Port}, SubscriberId, UserName, _ConnackProps) ->
    %% The properties are those of the CONNACK the broker is about to send, not the client's
    %% CONNECT: nothing of the client's to report.
    {MP, ClientId} = subscriber_id(SubscriberId),
    {PeerAddr, PeerPort} = peer(IP, Port),
    send(on_register, {MP, ClientId, PeerAddr, PeerPort, normalise(UserName)}).

%% called through vmq_plugin:all for a will message (no properties)
-spec on_publish_m5(username(), subscriber_id(), qos(), topic(), payload(), flag()) -> next.
on_publish_m5(UserName, SubscriberId, QoS, Topic, Payload, IsRetain) ->
    on_publish_m5(UserName, SubscriberId, QoS, Topic, Payload, IsRetain, #{}).

%% called through vmq_plugin:all
-spec on_publish_m5(username(), subscriber_id(), qos(), topic(), payload(), flag(), properties()) ->
    next.
on_publish_m5(UserName, SubscriberId, QoS, Topic, Payload, IsRetain, Props) ->
    {MP, ClientId} = subscriber_id(SubscriberId),
    send(
        on_publish,
        {MP, ClientId, normalise(UserName), QoS, unword(Topic), Payload, flag(IsRetain),
            user_properties(Props, allowed_keys())}
    ).

%% called through vmq_plugin:all, after the subscriptions are registered
-spec on_subscribe_m5(username(), subscriber_id(), [{topic(), subinfo()}], properties()) -> next.
on_subscribe_m5(UserName, SubscriberId, Topics, _Props) ->
    {MP, ClientId} = subscriber_id(SubscriberId),
    send(on_subscribe, {MP, ClientId, normalise(UserName), [subscription(T) || T <- Topics]}).

%% called through vmq_plugin:all_till_ok: `next` leaves the answer to the other plugins (and,
%% when none answers, the topics unchanged).
-spec on_unsubscribe_m5(username(), subscriber_id(), [topic()], properties()) -> next.
on_unsubscribe_m5(UserName, SubscriberId, Topics, _Props) ->
    {MP, ClientId} = subscriber_id(SubscriberId),
    send(on_unsubscribe, {MP, ClientId, normalise(UserName), [unword(T) || T <- Topics]}).

%% called through vmq_plugin:all_till_ok with seven arguments once no plugin answered the call
%% with five; `next` leaves the message unchanged.
-spec on_deliver_m5(username(), subscriber_id(), qos(), topic(), payload(), flag(), properties()) ->
    next.
on_deliver_m5(UserName, SubscriberId, QoS, Topic, Payload, IsRetain, Props) ->
    {MP, ClientId} = subscriber_id(SubscriberId),
    send(
        on_deliver,
        {MP, ClientId, normalise(UserName), QoS, unword(Topic), Payload, flag(IsRetain),
            user_properties(Props, allowed_keys())}
    ).

%% called through vmq_plugin:all by the MQTT 5 session only (every other caller passes a
%% session id as fourth argument, which vmq_events_sidecar handles).
-spec on_message_drop(subscriber_id(), fun(), atom()) -> next.
on_message_drop(SubscriberId, Promise, Reason) ->
    {MP, ClientId} = subscriber_id(SubscriberId),
    case Promise() of
        {Topic, QoS, Payload, _Props, _MatchedAcl} ->
            send(on_message_drop, {MP, ClientId, QoS, unword(Topic), Payload, reason(Reason)});
        {Topic, QoS, Payload, _Props} ->
            send(on_message_drop, {MP, ClientId, QoS, unword(Topic), Payload, reason(Reason)});
        _ ->
            next
    end.

%%%===================================================================
%%% Internal functions
%%%===================================================================

%% Hook is the vmq_events_sidecar hook name the event is reported under.
send(Hook, Fields) ->
    case enabled(Hook) of
        true ->
            count(incr_sidecar_events, Hook),
            case shackle:cast(?POOL, {Hook, os:system_time(nanosecond), Fields}, undefined) of
                {ok, _} -> ok;
                {error, _} -> count(incr_sidecar_events_error, Hook)
            end;
        false ->
            ok
    end,
    next.

%% The hooks listed in vmq_events_sidecar.hooks, as vmq_events_sidecar itself sees them; every
%% hook when vmq_events_sidecar is not running (its table does not exist).
enabled(Hook) ->
    try ets:lookup(?SIDECAR_HOOKS_TABLE, Hook) of
        [] -> false;
        _ -> true
    catch
        error:badarg -> true
    end.

%% The broker's sidecar_events{hook} and sidecar_events_error{hook} count these events with
%% vmq_events_sidecar's own: the sidecar reconciles what it received against them.
%% function_exported is a BIF that does not load code: no call to the code server per event.
count(Fun, Hook) ->
    case erlang:function_exported(vmq_events_sidecar_metrics, Fun, 1) of
        true ->
            try
                vmq_events_sidecar_metrics:Fun(Hook)
            catch
                _:_ -> ok
            end;
        false ->
            ok
    end.

allowed_keys() ->
    case application:get_env(vmq_events_sidecar_m5, user_properties) of
        {ok, Keys} when is_list(Keys) -> Keys;
        _ -> [<<"traceparent">>, <<"tracestate">>]
    end.

%% The allowlisted user properties of an MQTT 5 properties map, at most MAX_USER_PROPERTIES,
%% keys and values cut at MAX_USER_PROPERTY_BYTES. A key sent twice (MQTT 5 allows it) is kept
%% once, its first value. Allowed = all takes every key.
-spec user_properties(properties(), [binary()] | all) -> [{binary(), binary()}].
user_properties(#{?P_USER_PROPERTY := Props}, Allowed) when is_list(Props) ->
    take_properties(Props, Allowed, [], ?MAX_USER_PROPERTIES);
user_properties(_, _) ->
    [].

take_properties([], _, Acc, _) ->
    lists:reverse(Acc);
take_properties(_, _, Acc, 0) ->
    lists:reverse(Acc);
take_properties([{K, V} | Rest], Allowed, Acc, Left) when is_binary(K), is_binary(V) ->
    case (Allowed =:= all orelse lists:member(K, Allowed)) andalso not lists:keymember(K, 1, Acc) of
        true -> take_properties(Rest, Allowed, [{cut(K), cut(V)} | Acc], Left - 1);
        false -> take_properties(Rest, Allowed, Acc, Left)
    end;
take_properties([_ | Rest], Allowed, Acc, Left) ->
    take_properties(Rest, Allowed, Acc, Left).

cut(<<B:?MAX_USER_PROPERTY_BYTES/binary, _/binary>>) -> B;
cut(B) -> B.

%% A subscription as {Filter, QoS, ReasonCode}: QoS 128 when refused (as vmq_events_sidecar
%% reports it), the SUBACK reason code as the broker has it.
-spec subscription({topic(), subinfo() | atom()}) -> {binary(), integer(), integer()}.
subscription({Topic, {QoS, _SubOpts}}) -> subscription({Topic, QoS});
subscription({Topic, QoS}) when is_integer(QoS), QoS >= 0, QoS =< 2 -> {unword(Topic), QoS, QoS};
subscription({Topic, Code}) when is_integer(Code), Code >= 128 -> {unword(Topic), 128, Code};
%% not_allowed, or anything else: refused, "not authorized".
subscription({Topic, _}) -> {unword(Topic), 128, 16#87}.

%% Topic words as the topic string ([<<"a">>, <<>>, <<"b">>] is "a//b").
-spec unword(topic()) -> binary().
unword(T) when is_binary(T) -> T;
unword(Words) when is_list(Words) -> iolist_to_binary(lists:join(<<"/">>, Words));
unword(_) -> <<>>.

subscriber_id({MP, ClientId}) when is_list(MP) -> {list_to_binary(MP), ClientId};
subscriber_id({MP, ClientId}) when is_binary(MP) -> {MP, ClientId}.

peer(IP, Port) when is_tuple(IP), is_integer(Port) ->
    case inet:ntoa(IP) of
        {error, _} -> {<<>>, 0};
        S -> {list_to_binary(S), Port}
    end;
peer(_, _) ->
    {<<>>, 0}.

normalise(undefined) -> <<>>;
normalise(B) when is_binary(B) -> B;
normalise(_) -> <<>>.

flag(true) -> true;
flag(1) -> true;
flag(_) -> false.

reason(R) when is_atom(R) -> atom_to_binary(R, utf8);
reason(R) when is_binary(R) -> R;
reason(_) -> <<"unknown">>.
