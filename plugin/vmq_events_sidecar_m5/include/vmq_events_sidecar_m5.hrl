%% What the companion needs from VerneMQ's headers, declared here so that it compiles with a
%% plain Erlang/OTP (erlc) without the broker's sources. Values as in gojekfarm/vernemq_dev's
%% vernemq_dev.hrl, which the broker's MQTT 5 session (vmq_mqtt5_fsm) passes to the _m5 hooks.
-ifndef(VMQ_EVENTS_SIDECAR_M5_HRL).
-define(VMQ_EVENTS_SIDECAR_M5_HRL, true).

-type peer() :: {inet:ip_address(), inet:port_number()}.
-type username() :: binary() | undefined.
-type client_id() :: binary().
-type mountpoint() :: string().
-type subscriber_id() :: {mountpoint(), client_id()}.
-type topic() :: [binary()] | binary().
-type qos() :: 0 | 1 | 2.
-type payload() :: binary().
%% 1 | 0 | boolean(), as vernemq_dev's flag().
-type flag() :: 1 | 0 | boolean().
-type subinfo() :: integer() | {integer(), map()}.
-type properties() :: map().

%% The key of the user properties in an MQTT 5 properties map: a list of {Key, Value} binaries.
-define(P_USER_PROPERTY, p_user_property).

%% The shackle pool of the companion (its own connections to the sidecar).
-define(POOL, vmq_events_sidecar_m5).

%% vmq_events_sidecar's table of enabled hooks ({HookName} rows, public, named), which the
%% companion follows so that vmq_events_sidecar.hooks enables both.
-define(SIDECAR_HOOKS_TABLE, vmq_events_sidecar_table).

%% Type URL prefix of the companion's messages (proto/mqtt5/ in vmq-otel-sidecar).
-define(TYPE_URL_PREFIX, "type.googleapis.com/vmq_otel_sidecar.mqtt5.v1.").

%% Bounds on what one event carries of the client's user properties.
-define(MAX_USER_PROPERTIES, 16).
-define(MAX_USER_PROPERTY_BYTES, 512).

-endif.
