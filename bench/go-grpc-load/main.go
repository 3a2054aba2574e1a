// A load client for bench/grpc-bench.ts that calls like the plugin's gRPC transport: `workers`
// workers, each with one /webhook.v1beta1.PluginService/Event call in flight for the whole round
// trip, worker i on connection i mod `connections`, a per-call deadline, no retry. Written in Go
// so that the load costs the machine less than the server under test (the bench can also hold it
// to one core with taskset). Built by the bench with Debian's golang-google-grpc-dev.
//
//	go-grpc-load <port> <requests-file> <workers> <connections> <timeout-ms> <user-type>
//
// The requests file holds EventRequest messages, each after a 4-byte big-endian length; every
// message is sent once. Prints one JSON line: ok, errors by status code, timeouts, seconds,
// answer time p50/p99 (ms) of the OK calls.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append((*(v.(*[]byte)))[:0], data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

type result struct {
	OK       int64            `json:"ok"`
	Errors   map[string]int64 `json:"errors"`
	Timeouts int64            `json:"timeouts"`
	Seconds  float64          `json:"seconds"`
	P50      float64          `json:"p50"`
	P99      float64          `json:"p99"`
}

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: go-grpc-load <port> <requests-file> <workers> <connections> <timeout-ms> <user-type>")
		os.Exit(2)
	}
	port := os.Args[1]
	data, err := os.ReadFile(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workers, _ := strconv.Atoi(os.Args[3])
	connections, _ := strconv.Atoi(os.Args[4])
	timeoutMs, _ := strconv.Atoi(os.Args[5])
	userType := os.Args[6]

	var reqs [][]byte
	for len(data) >= 4 {
		n := binary.BigEndian.Uint32(data)
		reqs = append(reqs, data[4:4+n])
		data = data[4+n:]
	}

	conns := make([]*grpc.ClientConn, connections)
	for i := range conns {
		c, err := grpc.Dial("127.0.0.1:"+port,
			grpc.WithInsecure(),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})),
			grpc.WithBlock())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		conns[i] = c
	}

	var next int64 = -1
	var ok, timeouts int64
	var mu sync.Mutex
	errs := map[string]int64{}
	lats := make([][]float64, workers)
	var wg sync.WaitGroup
	started := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn := conns[w%connections]
			base := metadata.AppendToOutgoingContext(context.Background(), "user-type", userType)
			var resp []byte
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(len(reqs)) {
					return
				}
				req := reqs[i]
				ctx, cancel := context.WithTimeout(base, time.Duration(timeoutMs)*time.Millisecond)
				t0 := time.Now()
				err := conn.Invoke(ctx, "/webhook.v1beta1.PluginService/Event", &req, &resp)
				cancel()
				if err == nil {
					atomic.AddInt64(&ok, 1)
					lats[w] = append(lats[w], float64(time.Since(t0).Microseconds())/1000)
					continue
				}
				code := status.Code(err)
				if code == codes.DeadlineExceeded {
					atomic.AddInt64(&timeouts, 1)
					continue
				}
				mu.Lock()
				errs[code.String()]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	seconds := time.Since(started).Seconds()
	var all []float64
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Float64s(all)
	q := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return all[i]
	}
	out, _ := json.Marshal(result{OK: ok, Errors: errs, Timeouts: timeouts, Seconds: seconds, P50: q(0.5), P99: q(0.99)})
	fmt.Println(string(out))
	for _, c := range conns {
		c.Close()
	}
}
