// The compiled open-loop load generator of benchmarks/serving.py (issue 26), and a null server.
//
//	go build -o loadgen . && ./loadgen -url http://127.0.0.1:8080/predict -bodies bodies.json -rate 1500 -seconds 10
//	./loadgen -serve-null 8099
//
// Why it exists beside benchmarks/serving_load.py (the same design in Python asyncio): on a 2-CPU VM
// the Python generator's own lateness (p99 ~1.3 ms at 1500/s) and its event loop's wake-ups were most of
// the 2.3 ms p99 that a server doing no work showed, the floor under every figure.
//
// Request i is DUE at start + i/rate, whatever happened to the earlier ones (open loop), and its latency
// is counted from that due time (no coordinated omission, as wrk2): a stalled server or a late generator
// both show in the percentiles. The pacer is one goroutine on its own OS thread that sleeps with
// nanosleep(2): Go's own timers sleep through epoll_pwait, whose timeout is whole milliseconds, so a
// 667 us period would be paced in 1 ms steps. Requests go over `connections` keep-alive HTTP/1.1
// connections, written and parsed by hand (status line, Content-Length), as the Python one does.
//
// Output, for serving_load.parse_loadgen (one percentile code for both generators):
//
//	loadgen 1 requests=N rate=R seconds=S connections=C
//	<outcome> <latency_ns> <late_ns>        one line per request, in due order
//
// outcome: the HTTP status, E:<kind> for a transport error (latency -), U when it got no answer
// within -grace after the window (latency -). No dependency outside Go's standard library.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type record struct {
	late    time.Duration
	latency time.Duration
	outcome string // "" until answered or failed: unfinished
}

type job struct {
	i   int
	due time.Time
}

func main() {
	target := flag.String("url", "", "the URL to POST to")
	bodiesPath := flag.String("bodies", "", "a JSON file: a list of request bodies")
	rate := flag.Float64("rate", 0, "requests per second")
	seconds := flag.Float64("seconds", 10, "seconds of load")
	conns := flag.Int("connections", 64, "keep-alive connections")
	timeout := flag.Duration("timeout", 2*time.Second, "per request, once written")
	grace := flag.Duration("grace", 2*time.Second, "how long after the last due time answers still count")
	discard := flag.Bool("discard", false, "a warm-up: send, print nothing")
	serveNull := flag.Int("serve-null", 0, "be a server that answers every request 200 {} on 127.0.0.1:PORT")
	flag.Parse()
	if *serveNull > 0 {
		fail(serve(*serveNull))
		return
	}
	if *target == "" || *bodiesPath == "" || *rate <= 0 || *seconds <= 0 || *conns <= 0 {
		fail(errors.New("-url, -bodies, a positive -rate, -seconds and -connections are needed (or -serve-null PORT)"))
	}
	payloads, addr, err := prepare(*target, *bodiesPath)
	fail(err)
	// One P for the workers while the pacer's thread sits in nanosleep, even when pinned to one CPU.
	if runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	total := int(*rate * *seconds)
	records := make([]record, total)
	jobs := make(chan job, total)
	var stopAt atomic.Int64
	stopAt.Store(1<<63 - 1)
	var wg sync.WaitGroup
	opened := make(chan error, *conns)
	for c := 0; c < *conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(addr, payloads, jobs, records, *timeout, &stopAt, opened)
		}()
	}
	for c := 0; c < *conns; c++ { // every connection open before the clock starts
		if err := <-opened; err != nil {
			fail(fmt.Errorf("cannot connect to %s: %w", addr, err))
		}
	}
	pace(jobs, records, *rate, total)
	last := time.Now()
	stopAt.Store(last.Add(*grace).UnixNano())
	close(jobs)
	wg.Wait()
	if *discard {
		return
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	fmt.Fprintf(out, "loadgen 1 requests=%d rate=%g seconds=%g connections=%d\n", total, *rate, *seconds, *conns)
	for _, r := range records {
		switch {
		case r.outcome == "":
			fmt.Fprintf(out, "U - %d\n", r.late)
		case r.latency < 0:
			fmt.Fprintf(out, "%s - %d\n", r.outcome, r.late)
		default:
			fmt.Fprintf(out, "%s %d %d\n", r.outcome, r.latency, r.late)
		}
	}
	fail(out.Flush())
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
}

// prepare reads the bodies (compacted: the bytes Python's json.dumps(separators=(",", ":")) gives) and
// builds each request once.
func prepare(target, bodiesPath string) ([][]byte, string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, "", fmt.Errorf("-url %q: want http://HOST:PORT/PATH", target)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	raw, err := os.ReadFile(bodiesPath)
	if err != nil {
		return nil, "", err
	}
	var bodies []json.RawMessage
	if err := json.Unmarshal(raw, &bodies); err != nil || len(bodies) == 0 {
		return nil, "", fmt.Errorf("-bodies %s: want a non-empty JSON list (%v)", bodiesPath, err)
	}
	path := u.RequestURI()
	payloads := make([][]byte, len(bodies))
	for i, b := range bodies {
		var body bytes.Buffer
		if err := json.Compact(&body, b); err != nil {
			return nil, "", err
		}
		payloads[i] = append([]byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\n\r\n", path, u.Host, body.Len())), body.Bytes()...)
	}
	return payloads, addr, nil
}

// pace hands request i to the workers at its due time, on a thread of its own that sleeps in nanosleep.
func pace(jobs chan<- job, records []record, rate float64, total int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(float64(i) * 1e9 / rate))
		if wait := time.Until(due); wait > 0 {
			ts := syscall.NsecToTimespec(int64(wait))
			for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
			}
		}
		jobs <- job{i, due}
		records[i].late = time.Since(due)
	}
}

func work(addr string, payloads [][]byte, jobs <-chan job, records []record, timeout time.Duration,
	stopAt *atomic.Int64, opened chan<- error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	opened <- err
	if err != nil {
		return
	}
	reader := bufio.NewReaderSize(conn, 16<<10)
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for j := range jobs {
		if time.Now().UnixNano() > stopAt.Load() {
			return // past the grace: what is still queued stays unfinished
		}
		if conn == nil {
			if conn, err = net.DialTimeout("tcp", addr, timeout); err != nil {
				conn = nil
				records[j.i].latency, records[j.i].outcome = -1, "E:connect"
				continue
			}
			reader.Reset(conn)
		}
		conn.SetDeadline(time.Now().Add(timeout))
		status, err := exchange(conn, reader, payloads[j.i%len(payloads)])
		if err != nil {
			records[j.i].latency, records[j.i].outcome = -1, "E:"+kind(err)
			conn.Close() // its state is unknown now: a fresh one for the next request
			conn = nil
			continue
		}
		records[j.i].latency, records[j.i].outcome = time.Since(j.due), strconv.Itoa(status)
	}
}

func exchange(conn net.Conn, reader *bufio.Reader, payload []byte) (int, error) {
	if _, err := conn.Write(payload); err != nil {
		return 0, err
	}
	line, err := reader.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, errBadStatus
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, errBadStatus
	}
	length := -1
	for {
		header, err := reader.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		header = bytes.TrimRight(header, "\r\n")
		if len(header) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(header, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("content-length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return 0, errNoLength
			}
		}
	}
	if length < 0 {
		return 0, errNoLength
	}
	_, err = reader.Discard(length)
	return status, err
}

var (
	errBadStatus = errors.New("not an HTTP/1.x status line")
	errNoLength  = errors.New("no Content-Length (chunked bodies are not supported)")
)

// kind names an error the way serving_load.py's counts do (one word, no spaces).
func kind(err error) string {
	var nerr net.Error
	switch {
	case errors.As(err, &nerr) && nerr.Timeout():
		return "TimeoutError"
	case errors.Is(err, errBadStatus):
		return "BadStatusLine"
	case errors.Is(err, errNoLength):
		return "NoContentLength"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "ConnectionResetError"
	default:
		return "ConnectionError"
	}
}

// serve is the null server: every request gets 200 {}, nothing else is done. Beside serving_load.py's
// Python null it shows how much of that floor was Python's.
func serve(port int) error {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}")
	for {
		conn, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			reader := bufio.NewReader(conn)
			for {
				length := 0
				for {
					header, err := reader.ReadSlice('\n')
					if err != nil {
						return
					}
					header = bytes.TrimRight(header, "\r\n")
					if len(header) == 0 {
						break
					}
					if name, value, ok := bytes.Cut(header, []byte(":")); ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("content-length")) {
						length, _ = strconv.Atoi(string(bytes.TrimSpace(value)))
					}
				}
				if _, err := reader.Discard(length); err != nil {
					return
				}
				if _, err := conn.Write(answer); err != nil {
					return
				}
			}
		}()
	}
}
