// A minimal Go gRPC server for the benchmark's comparison: serves
// /webhook.v1beta1.PluginService/Event and only decodes the envelope (EventRequest field 1,
// then the Any's type_url and value), answering Empty. No metrics, no sinks: the floor a
// gRPC server on this machine can reach. Built by bench/grpc-bench.ts into a temp dir.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec hands request bytes through and answers with the given bytes (Empty = none).
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = data
	return nil
}
func (rawCodec) String() string { return "proto" }

var decoded, rejected uint64

// field returns the bytes of the last length-delimited field `num` of a message.
func field(b []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		n, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, errors.New("bad tag")
		}
		b = b[l:]
		if n == num && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return nil, errors.New("bad length")
			}
			out = v
			b = b[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(n, typ, b)
		if m < 0 {
			return nil, errors.New("bad field")
		}
		b = b[m:]
	}
	return out, nil
}

func handler(srv interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	var req []byte
	if err := dec(&req); err != nil {
		return nil, err
	}
	anyBytes, err := field(req, 1)
	if err == nil {
		var typeURL []byte
		typeURL, err = field(anyBytes, 1)
		if err == nil && len(typeURL) == 0 {
			err = errors.New("no type_url")
		}
		if err == nil {
			_, err = field(anyBytes, 2)
		}
	}
	if err != nil {
		atomic.AddUint64(&rejected, 1)
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	atomic.AddUint64(&decoded, 1)
	empty := []byte{}
	return &empty, nil
}

func main() {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(grpc.CustomCodec(rawCodec{}))
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "webhook.v1beta1.PluginService",
		HandlerType: (*interface{})(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Event", Handler: handler}},
		Metadata:    "plugin_service.proto",
	}, struct{}{})
	// The bench reads the port from the first line.
	fmt.Println(lis.Addr().(*net.TCPAddr).Port)
	_ = s.Serve(lis)
}
