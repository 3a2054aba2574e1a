// The Go peer of bench/ingest-bench.ts: a minimal sidecar written from the plugin's
// documentation that frames and fully decodes every event from any number of TCP connections
// and exports nothing. It is the reference the Node sidecar's metrics path is compared with.
//
// Built by the bench with Debian's golang-go and golang-google-protobuf-dev
// (GO111MODULE=off GOPATH=/usr/share/gocode), decoding with protowire by hand: every string is
// materialised, payloads are sliced, timestamps, ACLs, topic lists and user property maps built.
//
//	go-peer <expected-events> [<expected-events> ...]
//
// Prints "listening <port>", then "done <events> <unix-nanos>" each time it has decoded one of
// the expected numbers of events (a warm-up, then the measured run).
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	kString = iota + 1
	kBytes
	kVarint
	kTimestamp
	kACL
	kTopics
	kStrings
	kMap
)

// Field kinds by field number, per message name (proto/*.proto).
var schema = map[string][]int{
	"OnRegister":         {0, kTimestamp, kString, kVarint, kString, kString, kString, kMap, kString},
	"OnRegisterFailed":   {0, kTimestamp, kString, kString, kString, kVarint, kString, kVarint, kVarint},
	"OnClientWakeUp":     {0, kTimestamp, kString, kString, kString},
	"OnClientOffline":    {0, kTimestamp, kString, kString, kVarint, kString, kString},
	"OnClientGone":       {0, kTimestamp, kString, kString, kVarint, kString, kString},
	"OnSessionExpired":   {0, kTimestamp, kString, kString, kString},
	"OnSubscribe":        {0, kTimestamp, kString, kString, kString, kTopics, kString},
	"OnUnsubscribe":      {0, kTimestamp, kString, kString, kString, kStrings, kString},
	"OnPublish":          {0, kTimestamp, kString, kString, kString, kVarint, kString, kBytes, kVarint, kACL, kString},
	"OnDeliver":          {0, kTimestamp, kString, kString, kString, kString, kVarint, kVarint, kBytes, kACL, kVarint, kString},
	"OnDeliveryComplete": {0, kTimestamp, kString, kString, kString, kString, kVarint, kVarint, kBytes, kACL, kVarint, kString},
	"OnOfflineMessage":   {0, kTimestamp, kString, kString, kVarint, kString, kBytes, kVarint, kString},
	"OnMessageDrop":      {0, kTimestamp, kString, kString, kVarint, kString, kBytes, kString, kACL, kString},
}

type ACL struct{ Name, Pattern string }
type Topic struct {
	Topic string
	QoS   int64
	ACL   *ACL
}

// Event holds one decoded event; fields by number.
type Event struct {
	Type     string
	Seconds  int64
	Nanos    int64
	Strings  [12]string
	Ints     [12]int64
	Payload  []byte
	ACL      *ACL
	Topics   []Topic
	Unsubs   []string
	UserProp map[string]string
}

var decoded, failed int64

func decodeACL(b []byte) (*ACL, bool) {
	a := &ACL{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || typ != protowire.BytesType {
			return nil, false
		}
		b = b[n:]
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return nil, false
		}
		b = b[m:]
		if num == 1 {
			a.Name = string(v)
		} else if num == 2 {
			a.Pattern = string(v)
		}
	}
	return a, true
}

func decodeEvent(kinds []int, b []byte, e *Event) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if int(num) >= len(kinds) || kinds[num] == 0 {
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return false
			}
			b = b[m:]
			continue
		}
		if kinds[num] == kVarint {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return false
			}
			e.Ints[num] = int64(v)
			b = b[m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b)
		if m < 0 {
			return false
		}
		b = b[m:]
		switch kinds[num] {
		case kString:
			e.Strings[num] = string(v)
		case kBytes:
			e.Payload = v
		case kTimestamp:
			for len(v) > 0 {
				tn, _, k := protowire.ConsumeTag(v)
				if k < 0 {
					return false
				}
				x, j := protowire.ConsumeVarint(v[k:])
				if j < 0 {
					return false
				}
				if tn == 1 {
					e.Seconds = int64(x)
				} else {
					e.Nanos = int64(int32(x))
				}
				v = v[k+j:]
			}
		case kACL:
			a, ok := decodeACL(v)
			if !ok {
				return false
			}
			e.ACL = a
		case kTopics:
			t := Topic{}
			for len(v) > 0 {
				tn, tt, k := protowire.ConsumeTag(v)
				if k < 0 {
					return false
				}
				v = v[k:]
				if tt == protowire.VarintType {
					x, j := protowire.ConsumeVarint(v)
					if j < 0 {
						return false
					}
					t.QoS = int64(int32(x))
					v = v[j:]
					continue
				}
				x, j := protowire.ConsumeBytes(v)
				if j < 0 {
					return false
				}
				v = v[j:]
				if tn == 1 {
					t.Topic = string(x)
				} else if tn == 3 {
					a, ok := decodeACL(x)
					if !ok {
						return false
					}
					t.ACL = a
				}
			}
			e.Topics = append(e.Topics, t)
		case kStrings:
			e.Unsubs = append(e.Unsubs, string(v))
		case kMap:
			var key, val string
			for len(v) > 0 {
				tn, _, k := protowire.ConsumeTag(v)
				if k < 0 {
					return false
				}
				x, j := protowire.ConsumeBytes(v[k:])
				if j < 0 {
					return false
				}
				if tn == 1 {
					key = string(x)
				} else {
					val = string(x)
				}
				v = v[k+j:]
			}
			if e.UserProp == nil {
				e.UserProp = map[string]string{}
			}
			e.UserProp[key] = val
		}
	}
	return true
}

// decodeFrame decodes an Any (type_url = 1, value = 2) and the event inside it.
func decodeFrame(f []byte) (*Event, bool) {
	var url string
	var value []byte
	for len(f) > 0 {
		num, typ, n := protowire.ConsumeTag(f)
		if n < 0 || typ != protowire.BytesType {
			return nil, false
		}
		v, m := protowire.ConsumeBytes(f[n:])
		if m < 0 {
			return nil, false
		}
		if num == 1 {
			url = string(v)
		} else if num == 2 {
			value = v
		}
		f = f[n+m:]
	}
	name := url[strings.LastIndexByte(url, '/')+1:]
	name = strings.TrimPrefix(name, "eventssidecar.v1.")
	kinds, ok := schema[name]
	if !ok {
		return nil, false
	}
	e := &Event{Type: name}
	return e, decodeEvent(kinds, value, e)
}

var sink atomic.Value

func serve(c net.Conn, expected []int64, done chan<- int64) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64*1024)
	var hdr [4]byte
	buf := make([]byte, 4096)
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint32(hdr[:]))
		if n > len(buf) {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return
		}
		// A copy per frame, as a sidecar that hands events on must keep their bytes.
		frame := append([]byte(nil), buf[:n]...)
		e, ok := decodeFrame(frame)
		if !ok {
			atomic.AddInt64(&failed, 1)
			continue
		}
		if e.Payload != nil && len(e.Payload) == -1 {
			sink.Store(e) // keeps the decode from being optimised away
		}
		v := atomic.AddInt64(&decoded, 1)
		for _, x := range expected {
			if v == x {
				done <- v
			}
		}
	}
}

func main() {
	var expected []int64
	for _, a := range os.Args[1:] {
		x, _ := strconv.ParseInt(a, 10, 64)
		expected = append(expected, x)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	done := make(chan int64, len(expected))
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, expected, done)
		}
	}()
	for range expected {
		v := <-done
		fmt.Printf("done %d %d\n", v, time.Now().UnixNano())
	}
	// Stay up until the bench has read the figures from /proc.
	io.Copy(io.Discard, os.Stdin)
}
