%% Events -> frames: a 4-byte big-endian length, then a google.protobuf.Any holding one of the
%% messages of proto/mqtt5/ (package vmq_otel_sidecar.mqtt5.v1), the framing vmq_events_sidecar
%% uses for its own events. Protobuf is written by hand (a few field kinds): no generated code,
%% no dependency on gpb. Fields at their proto3 default are left out, as gpb does.
-module(vmq_events_sidecar_m5_format).

-include("vmq_events_sidecar_m5.hrl").

-export([frame/1, encode/1]).

%% Event: {Hook, TimestampNs, Fields} as vmq_events_sidecar_m5_plugin builds it.
-spec frame(tuple()) -> iodata().
frame(Event) ->
    Any = encode(Event),
    [<<(iolist_size(Any)):32>>, Any].

-spec encode(tuple()) -> iodata().
encode({on_register, Ts, {MP, ClientId, PeerAddr, PeerPort, UserName}}) ->
    envelope("OnRegister", [
        message(1, timestamp(Ts)),
        string(2, PeerAddr),
        int(3, PeerPort),
        string(4, UserName),
        string(5, MP),
        string(6, ClientId)
    ]);
encode({on_publish, Ts, {MP, ClientId, UserName, QoS, Topic, Payload, IsRetain, UserProps}}) ->
    envelope("OnPublish", [
        message(1, timestamp(Ts)),
        string(2, UserName),
        string(3, ClientId),
        string(4, MP),
        int(5, QoS),
        string(6, Topic),
        bytes(7, Payload),
        bool(8, IsRetain),
        string_map(100, UserProps)
    ]);
encode({on_subscribe, Ts, {MP, ClientId, UserName, Topics}}) ->
    envelope("OnSubscribe", [
        message(1, timestamp(Ts)),
        string(2, ClientId),
        string(3, MP),
        string(4, UserName),
        [
            message(5, [string(1, T), int(2, QoS), int(4, ReasonCode)])
         || {T, QoS, ReasonCode} <- Topics
        ]
    ]);
encode({on_unsubscribe, Ts, {MP, ClientId, UserName, Topics}}) ->
    envelope("OnUnsubscribe", [
        message(1, timestamp(Ts)),
        string(2, UserName),
        string(3, ClientId),
        string(4, MP),
        [field(5, 2, T) || T <- Topics]
    ]);
encode({on_deliver, Ts, {MP, ClientId, UserName, QoS, Topic, Payload, IsRetain, UserProps}}) ->
    envelope("OnDeliver", [
        message(1, timestamp(Ts)),
        string(2, UserName),
        string(3, ClientId),
        string(4, MP),
        string(5, Topic),
        int(6, QoS),
        bool(7, IsRetain),
        bytes(8, Payload),
        string_map(100, UserProps)
    ]);
encode({on_message_drop, Ts, {MP, ClientId, QoS, Topic, Payload, Reason}}) ->
    envelope("OnMessageDrop", [
        message(1, timestamp(Ts)),
        string(2, ClientId),
        string(3, MP),
        int(4, QoS),
        string(5, Topic),
        bytes(6, Payload),
        string(7, Reason)
    ]).

%% google.protobuf.Any: type_url = 1, value = 2.
envelope(Name, Fields) ->
    [field(1, 2, [?TYPE_URL_PREFIX, Name]), field(2, 2, Fields)].

%% google.protobuf.Timestamp from nanoseconds since the epoch: seconds = 1, nanos = 2.
timestamp(Ns) ->
    [int(1, Ns div 1000000000), int(2, Ns rem 1000000000)].

string(_, <<>>) -> [];
string(_, undefined) -> [];
string(N, S) -> field(N, 2, S).

bytes(N, B) -> string(N, B).

int(_, 0) -> [];
int(_, undefined) -> [];
int(N, I) when is_integer(I), I > 0 -> [key(N, 0), varint(I)];
%% A negative int32 is ten bytes of two's complement; the companion never has one to send.
int(N, I) when is_integer(I) -> [key(N, 0), varint(I band 16#FFFFFFFFFFFFFFFF)].

bool(N, true) -> [key(N, 0), 1];
bool(_, _) -> [].

message(N, Fields) -> field(N, 2, Fields).

%% map<string, string>: each entry a message with key = 1, value = 2.
string_map(N, Pairs) ->
    [message(N, [field(1, 2, K), field(2, 2, V)]) || {K, V} <- Pairs].

field(N, 2, Value) ->
    [key(N, 2), varint(iolist_size(Value)), Value].

key(N, Wire) -> varint((N bsl 3) bor Wire).

varint(I) when I < 128 -> I;
varint(I) -> [(I band 127) bor 128, varint(I bsr 7)].
