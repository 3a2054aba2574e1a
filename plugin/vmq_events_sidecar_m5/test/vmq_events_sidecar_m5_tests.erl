%% EUnit tests of the companion, run by test/mqtt5/companion-plugin.test.ts (npm test) with the
%% stand-ins of this folder in place of the broker's shackle and vmq_events_sidecar_metrics.
-module(vmq_events_sidecar_m5_tests).

-include_lib("eunit/include/eunit.hrl").

-define(POOL, vmq_events_sidecar_m5).
-define(M, vmq_events_sidecar_m5_plugin).
-define(TP, <<"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01">>).

%% Each test: a fresh pool stand-in delivering casts to the test process, fresh counters, and
%% vmq_events_sidecar's hook table as the test sets it up (none: the plugin is not running).
setup() ->
    %% Loaded in a broker, where vmq_events_sidecar runs (the companion does not load it).
    {module, _} = code:ensure_loaded(vmq_events_sidecar_metrics),
    persistent_term:put({shackle_standin, ?POOL}, self()),
    catch ets:delete(vmq_events_sidecar_metrics_standin),
    ets:new(vmq_events_sidecar_metrics_standin, [public, named_table]),
    catch ets:delete(vmq_events_sidecar_table),
    application:unset_env(vmq_events_sidecar_m5, user_properties),
    ok.

casts() ->
    receive
        {shackle_cast, ?POOL, Request} -> [Request | casts()]
    after 0 -> []
    end.

counter(Key) ->
    case ets:lookup(vmq_events_sidecar_metrics_standin, Key) of
        [{_, N}] -> N;
        [] -> 0
    end.

sub() -> {"", <<"c5">>}.

props(Pairs) -> #{p_user_property => Pairs}.

publish_carries_allowlisted_user_properties_test() ->
    setup(),
    Props = props([{<<"auth_token">>, <<"secret">>}, {<<"traceparent">>, ?TP}, {<<"tracestate">>, <<"k=v">>}]),
    ?assertEqual(next, ?M:on_publish_m5(<<"alice">>, {"mp1", <<"c5">>}, 1, [<<"a">>, <<"b">>], <<"x">>, true, Props)),
    [{on_publish, Ts, Fields}] = casts(),
    ?assert(is_integer(Ts) andalso Ts > 1700000000 * 1000000000),
    ?assertEqual(
        {<<"mp1">>, <<"c5">>, <<"alice">>, 1, <<"a/b">>, <<"x">>, true, [{<<"traceparent">>, ?TP}, {<<"tracestate">>, <<"k=v">>}]},
        Fields
    ),
    ?assertEqual(1, counter({sidecar_events, on_publish})).

allowlist_comes_from_the_application_environment_test() ->
    setup(),
    application:set_env(vmq_events_sidecar_m5, user_properties, [<<"tenant">>]),
    ?M:on_deliver_m5(undefined, sub(), 2, [<<"t">>], <<>>, 0, props([{<<"tenant">>, <<"t1">>}, {<<"traceparent">>, ?TP}])),
    ?assertMatch([{on_deliver, _, {<<>>, <<"c5">>, <<>>, 2, <<"t">>, <<>>, false, [{<<"tenant">>, <<"t1">>}]}}], casts()).

user_properties_are_bounded_test() ->
    Many = [{integer_to_binary(I), <<"v">>} || I <- lists:seq(1, 100)],
    ?assertEqual(16, length(?M:user_properties(props(Many), all))),
    Long = binary:copy(<<"a">>, 2000),
    [{K, V}] = ?M:user_properties(props([{Long, Long}]), all),
    ?assertEqual({512, 512}, {byte_size(K), byte_size(V)}),
    %% MQTT 5 allows a key twice: the first value is kept.
    ?assertEqual([{<<"traceparent">>, <<"1">>}], ?M:user_properties(props([{<<"traceparent">>, <<"1">>}, {<<"traceparent">>, <<"2">>}]), [<<"traceparent">>])),
    ?assertEqual([], ?M:user_properties(#{}, all)).

will_message_publish_has_no_properties_test() ->
    setup(),
    ?assertEqual(next, ?M:on_publish_m5(<<"u">>, sub(), 0, [<<"will">>], <<"bye">>, false)),
    ?assertMatch([{on_publish, _, {<<>>, <<"c5">>, <<"u">>, 0, <<"will">>, <<"bye">>, false, []}}], casts()).

register_reports_peer_and_user_test() ->
    setup(),
    ?assertEqual(next, ?M:on_register_m5({{10, 0, 0, 5}, 50000}, sub(), <<"alice">>, #{p_assigned_client_id => <<"x">>})),
    ?assertMatch([{on_register, _, {<<>>, <<"c5">>, <<"10.0.0.5">>, 50000, <<"alice">>}}], casts()),
    ?M:on_register_m5({{0, 0, 0, 0, 0, 0, 0, 1}, 1}, sub(), undefined, #{}),
    ?assertMatch([{on_register, _, {<<>>, <<"c5">>, <<"::1">>, 1, <<>>}}], casts()).

subscribe_reports_granted_and_refused_filters_test() ->
    setup(),
    Topics = [{[<<"s">>, <<"+">>], {1, #{no_local => false}}}, {[<<"secret">>], 16#87}, {[<<"q">>], 0}, {[<<"n">>], not_allowed}],
    ?assertEqual(next, ?M:on_subscribe_m5(<<"bob">>, sub(), Topics, #{})),
    ?assertMatch(
        [{on_subscribe, _, {<<>>, <<"c5">>, <<"bob">>, [{<<"s/+">>, 1, 1}, {<<"secret">>, 128, 16#87}, {<<"q">>, 0, 0}, {<<"n">>, 128, 16#87}]}}],
        casts()
    ).

unsubscribe_and_deliver_answer_next_for_all_till_ok_test() ->
    setup(),
    %% vmq_plugin:all_till_ok moves on after `next`: other plugins still answer, and with none
    %% the broker keeps the topics and the message as they are.
    ?assertEqual(next, ?M:on_unsubscribe_m5(<<"bob">>, sub(), [[<<"a">>, <<>>, <<"b">>], [<<"#">>]], #{})),
    ?assertEqual(next, ?M:on_deliver_m5(<<"bob">>, sub(), 1, [<<"a">>], <<"p">>, 1, #{})),
    ?assertMatch([{on_unsubscribe, _, {<<>>, <<"c5">>, <<"bob">>, [<<"a//b">>, <<"#">>]}}, {on_deliver, _, _}], casts()).

message_drop_takes_both_promise_shapes_test() ->
    setup(),
    ?assertEqual(next, ?M:on_message_drop(sub(), fun() -> {[<<"t">>], 1, <<"p">>, #{}, {matched_acl, undefined, undefined}} end, no_matching_subscribers)),
    ?assertEqual(next, ?M:on_message_drop(sub(), fun() -> {[<<"t">>], 2, <<"p">>, #{}} end, max_packet_size_exceeded)),
    ?assertEqual(next, ?M:on_message_drop(sub(), fun() -> error end, expired)),
    ?assertMatch(
        [{on_message_drop, _, {<<>>, <<"c5">>, 1, <<"t">>, <<"p">>, <<"no_matching_subscribers">>}},
         {on_message_drop, _, {<<>>, <<"c5">>, 2, <<"t">>, <<"p">>, <<"max_packet_size_exceeded">>}}],
        casts()
    ).

follows_vmq_events_sidecar_hook_list_test() ->
    setup(),
    ets:new(vmq_events_sidecar_table, [public, ordered_set, named_table]),
    ets:insert(vmq_events_sidecar_table, {on_register}),
    ?M:on_publish_m5(<<"u">>, sub(), 0, [<<"t">>], <<>>, false, #{}),
    ?M:on_register_m5({{127, 0, 0, 1}, 1}, sub(), <<"u">>, #{}),
    ?assertMatch([{on_register, _, _}], casts()),
    ?assertEqual({0, 1}, {counter({sidecar_events, on_publish}), counter({sidecar_events, on_register})}),
    ets:delete(vmq_events_sidecar_table).

a_refusing_pool_is_counted_and_does_not_block_test() ->
    setup(),
    persistent_term:put({shackle_standin, ?POOL}, {error, backlog_full}),
    ?assertEqual(next, ?M:on_publish_m5(<<"u">>, sub(), 1, [<<"t">>], <<>>, false, #{})),
    ?assertEqual({1, 1}, {counter({sidecar_events, on_publish}), counter({sidecar_events_error, on_publish})}),
    persistent_term:erase({shackle_standin, ?POOL}),
    ?assertEqual(next, ?M:on_subscribe_m5(<<"u">>, sub(), [{[<<"t">>], 0}], #{})),
    ?assertEqual(1, counter({sidecar_events_error, on_subscribe})).

frame_is_length_prefixed_any_with_our_type_url_test() ->
    Frame = iolist_to_binary(vmq_events_sidecar_m5_client_frame({on_unsubscribe, 1700000000123456789, {<<>>, <<"c">>, <<>>, [<<"t">>]}})),
    <<Len:32, Any/binary>> = Frame,
    ?assertEqual(Len, byte_size(Any)),
    Url = <<"type.googleapis.com/vmq_otel_sidecar.mqtt5.v1.OnUnsubscribe">>,
    ?assertMatch(<<10, 59, Url:59/binary, 18, _/binary>>, Any).

vmq_events_sidecar_m5_client_frame(Event) ->
    {ok, undefined, Data, st} = vmq_events_sidecar_m5_client:handle_request(Event, st),
    Data.

pool_address_defaults_to_vmq_events_sidecar_settings_test() ->
    application:set_env(vmq_events_sidecar, hostname, "sidecar.local"),
    application:set_env(vmq_events_sidecar, port, 9999),
    ?assertMatch({[{address, "sidecar.local"}, {port, 9999}, {protocol, shackle_tcp}], [{pool_size, 10}, {backlog_size, 4096}]}, vmq_events_sidecar_m5_sup:pool_options()),
    application:set_env(vmq_events_sidecar_m5, port, 7777),
    ?assertMatch({[_, {port, 7777}, _], _}, vmq_events_sidecar_m5_sup:pool_options()),
    application:unset_env(vmq_events_sidecar_m5, port),
    application:unset_env(vmq_events_sidecar, hostname),
    application:unset_env(vmq_events_sidecar, port).

supervisor_starts_the_pool_and_survives_a_pool_left_running_test() ->
    shackle_pool:stop(vmq_events_sidecar_m5),
    ?assertMatch({ok, {_, []}}, vmq_events_sidecar_m5_sup:init([])),
    ?assertMatch({vmq_events_sidecar_m5_client, [{address, _}, {port, _}, {protocol, shackle_tcp}], _}, persistent_term:get({shackle_pool_standin, vmq_events_sidecar_m5})),
    %% Started again without a stop in between: the pool is already there.
    ?assertMatch({ok, {_, []}}, vmq_events_sidecar_m5_sup:init([])),
    shackle_pool:stop(vmq_events_sidecar_m5).
