{application, vmq_events_sidecar_m5, [
    {description, "MQTT 5 events for vmq-otel-sidecar: the _m5 hooks vmq_events_sidecar lacks"},
    {vsn, "0.1.0"},
    {registered, [vmq_events_sidecar_m5_sup]},
    {mod, {vmq_events_sidecar_m5_app, []}},
    {applications, [kernel, stdlib, shackle]},
    {modules, [
        vmq_events_sidecar_m5_app,
        vmq_events_sidecar_m5_sup,
        vmq_events_sidecar_m5_plugin,
        vmq_events_sidecar_m5_client,
        vmq_events_sidecar_m5_format
    ]},
    {env, [
        %% pool_size, backlog_size; hostname and port default to vmq_events_sidecar's.
        {pool_size, 10},
        {backlog_size, 4096},
        %% MQTT 5 PUBLISH user properties forwarded (binaries), or 'all'.
        {user_properties, [<<"traceparent">>, <<"tracestate">>]},
        {vmq_plugin_hooks, [
            {vmq_events_sidecar_m5_plugin, on_register_m5, 4, []},
            {vmq_events_sidecar_m5_plugin, on_publish_m5, 6, []},
            {vmq_events_sidecar_m5_plugin, on_publish_m5, 7, []},
            {vmq_events_sidecar_m5_plugin, on_subscribe_m5, 4, []},
            {vmq_events_sidecar_m5_plugin, on_unsubscribe_m5, 4, []},
            {vmq_events_sidecar_m5_plugin, on_deliver_m5, 7, []},
            {vmq_events_sidecar_m5_plugin, on_message_drop, 3, []}
        ]}
    ]},
    {licenses, ["Apache-2.0"]}
]}.
