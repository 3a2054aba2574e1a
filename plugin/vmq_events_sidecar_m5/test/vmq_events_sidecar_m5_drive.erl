%% Drives the companion's hooks as the broker's MQTT 5 session calls them and sends what its
%% pool client encodes to a sidecar over TCP: the bytes the real plugin would send. Run by
%% test/mqtt5/companion-plugin.test.ts:
%%   erl -noshell -pa EBIN -run vmq_events_sidecar_m5_drive main PORT
%% Scenario (what the test expects on the sidecar): two MQTT 5 clients register; the subscriber
%% subscribes to one filter (granted QoS 1) and is refused another (0x87); the publisher sends
%% QoS 0, 1 (with traceparent and an unlisted auth_token user property) and 2 (retained), each
%% delivered; one unsubscribe; two drops (no subscribers, packet too large); one will message.
-module(vmq_events_sidecar_m5_drive).

-export([main/1]).

-define(M, vmq_events_sidecar_m5_plugin).
-define(TP, <<"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01">>).

main([PortText]) ->
    {ok, Sock} = gen_tcp:connect({127, 0, 0, 1}, list_to_integer(PortText), [binary, {active, false}]),
    {module, _} = code:ensure_loaded(vmq_events_sidecar_metrics),
    ets:new(vmq_events_sidecar_metrics_standin, [public, named_table]),
    persistent_term:put({shackle_standin, vmq_events_sidecar_m5}, self()),
    Pub = {"", <<"m5-pub">>},
    Sub = {"", <<"m5-sub">>},
    Topic = [<<"sensors">>, <<"1">>, <<"temp">>],
    Traced = #{p_user_property => [{<<"auth_token">>, <<"s3cr3t">>}, {<<"traceparent">>, ?TP}]},
    next = ?M:on_register_m5({{10, 0, 0, 5}, 50000}, Pub, <<"alice">>, #{}),
    next = ?M:on_register_m5({{10, 0, 0, 6}, 50001}, Sub, <<"bob">>, #{}),
    next = ?M:on_subscribe_m5(<<"bob">>, Sub, [{[<<"sensors">>, <<"+">>, <<"temp">>], {1, #{}}}, {[<<"secret">>], 16#87}], #{}),
    lists:foreach(
        fun({QoS, Retain, Props}) ->
            next = ?M:on_publish_m5(<<"alice">>, Pub, QoS, Topic, <<"{\"t\":21}">>, Retain, Props),
            next = ?M:on_deliver_m5(<<"bob">>, Sub, 1, Topic, <<"{\"t\":21}">>, Retain, Props)
        end,
        [{0, false, #{}}, {1, false, Traced}, {2, true, #{}}]
    ),
    next = ?M:on_unsubscribe_m5(<<"bob">>, Sub, [[<<"sensors">>, <<"+">>, <<"temp">>]], #{}),
    next = ?M:on_message_drop(Pub, fun() -> {[<<"nobody">>], 1, <<"x">>, #{}, {matched_acl, undefined, undefined}} end, no_matching_subscribers),
    next = ?M:on_message_drop(Sub, fun() -> {Topic, 0, <<"big">>, #{}} end, max_packet_size_exceeded),
    next = ?M:on_publish_m5(<<"alice">>, Pub, 0, [<<"wills">>, <<"m5-pub">>], <<"gone">>, false),
    N = send_casts(Sock, 0),
    ok = gen_tcp:close(Sock),
    io:format("sent ~b events~n", [N]),
    halt(0).

send_casts(Sock, N) ->
    receive
        {shackle_cast, vmq_events_sidecar_m5, Request} ->
            {ok, undefined, Data, _} = vmq_events_sidecar_m5_client:handle_request(Request, undefined),
            ok = gen_tcp:send(Sock, Data),
            send_casts(Sock, N + 1)
    after 0 -> N
    end.
