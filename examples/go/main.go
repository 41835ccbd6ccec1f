// Command osm-example lists and watches the messages of service tickets
// through osm-grpc-adapter.
//
//	OSM_AUTH_TOKEN=... osm-example list HOST:PORT CASE_ID [PAGE_SIZE]
//	OSM_AUTH_TOKEN=... osm-example watch HOST:PORT CASE_ID[,CASE_ID...] [MARKER [SECONDS]]
//
// list prints every message of the case with its message_id
// (ListCaseMessages), then the case page by page (ListMessages, PAGE_SIZE
// messages a page, default 10, following next_offset). watch prints each
// batch of new messages and its last_message_time_id as it arrives
// (WatchNewMessages), starting after MARKER, for at most SECONDS (default:
// until the stream ends); when the stream ends with UNAVAILABLE (the adapter
// shut down) or at the deadline it prints the marker to resume from.
// Build: examples/go/build.sh. Exit status: the gRPC status code, 64 for a
// usage error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	osmv2 "github.com/huaweicloud/osm-grpc-adapter/gen/go/huaweicloud/osm/v2"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const usage = `usage: osm-example list HOST:PORT CASE_ID [PAGE_SIZE]
       osm-example watch HOST:PORT CASE_ID[,CASE_ID...] [MARKER [SECONDS]]`

func main() {
	args := os.Args[1:]
	if len(args) < 3 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(64)
	}
	conn, err := grpc.Dial(args[1], grpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(64)
	}
	defer conn.Close()
	client := osmv2.NewMessageServiceClient(conn)
	ctx := context.Background()
	if token := os.Getenv("OSM_AUTH_TOKEN"); token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "x-auth-token", token)
	}
	switch {
	case args[0] == "list" && len(args) <= 4:
		pageSize := 10
		if len(args) == 4 {
			if pageSize, err = strconv.Atoi(args[3]); err != nil {
				fmt.Fprintln(os.Stderr, usage)
				os.Exit(64)
			}
		}
		err = list(ctx, client, args[2], int32(pageSize))
	case args[0] == "watch" && len(args) <= 5:
		marker, seconds := "", 0.0
		if len(args) >= 4 {
			marker = args[3]
		}
		if len(args) == 5 {
			if seconds, err = strconv.ParseFloat(args[4], 64); err != nil {
				fmt.Fprintln(os.Stderr, usage)
				os.Exit(64)
			}
		}
		marker, err = watch(ctx, client, strings.Split(args[2], ","), marker, seconds)
		if c := status.Code(err); c == codes.Unavailable || c == codes.DeadlineExceeded {
			// The stream ended without an error of the request: resume here.
			exit := printError(err)
			fmt.Printf("resume_from: %s\n", marker)
			os.Exit(exit)
		}
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(64)
	}
	if err != nil {
		os.Exit(printError(err))
	}
}

func sender(message *osmv2.CaseMessage) string {
	if message.GetType() == 1 {
		return "support"
	}
	return "customer"
}

func list(ctx context.Context, client osmv2.MessageServiceClient, caseID string,
	pageSize int32) error {
	call, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	all, err := client.ListCaseMessages(call, &osmv2.ListCaseMessagesRequest{CaseId: caseID})
	if err != nil {
		return err
	}
	fmt.Printf("ListCaseMessages %s: %d messages, request_id %s\n", caseID,
		len(all.GetMessages()), all.GetRequestId())
	for _, m := range all.GetMessages() {
		fmt.Printf("  %s [%s %s] %s\n", m.GetMessageId(), sender(m), m.GetCreateTime(),
			m.GetContent())
	}
	for offset := int32(0); ; {
		call, cancel := context.WithTimeout(ctx, 10*time.Second)
		page, err := client.ListMessages(call, &osmv2.ListMessagesRequest{
			CaseId: caseID, Offset: offset, Limit: pageSize})
		cancel()
		if err != nil {
			return err
		}
		fmt.Printf("ListMessages %s offset %d: %d of %d, next_offset %d\n", caseID, offset,
			len(page.GetMessages()), page.GetTotalCount(), page.GetNextOffset())
		for _, m := range page.GetMessages() {
			fmt.Printf("  [%s %s] %s\n", sender(m), m.GetCreateTime(), m.GetContent())
		}
		if page.GetNextOffset() == 0 {
			return nil
		}
		offset = page.GetNextOffset()
	}
}

// watch prints the batches until the stream ends; it returns the marker to
// resume from and how the stream ended (nil: the adapter ended it with OK).
func watch(ctx context.Context, client osmv2.MessageServiceClient, caseIDs []string,
	marker string, seconds float64) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	if seconds > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(seconds*float64(time.Second)))
	}
	defer cancel()
	stream, err := client.WatchNewMessages(ctx, &osmv2.WatchNewMessagesRequest{
		CaseIds: caseIDs, LastMessageTimeId: marker})
	if err != nil {
		return marker, err
	}
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			return marker, nil
		} else if err != nil {
			return marker, err
		}
		for _, c := range batch.GetCases() {
			for _, m := range c.GetMessages() {
				fmt.Printf("%s [%s %s] %s\n", c.GetCaseId(), sender(m), m.GetCreateTime(),
					m.GetContent())
			}
		}
		marker = batch.GetLastMessageTimeId()
		fmt.Printf("last_message_time_id: %s\n", marker)
	}
}

// printError prints the status and its details as withdraw.py does, and
// returns the exit status: the gRPC code.
func printError(err error) int {
	s := status.Convert(err)
	fmt.Printf("code: %s\nmessage: %s\n", code.Code(s.Code()), s.Message())
	for _, detail := range s.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			fmt.Printf("reason: %s\n", d.GetReason())
			if osmCode, ok := d.GetMetadata()["errorCode"]; ok {
				fmt.Printf("osm_error_code: %s\n", osmCode)
			}
		case *errdetails.RequestInfo:
			fmt.Printf("request_id: %s\n", d.GetRequestId())
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Printf("invalid field: %s: %s\n", v.GetField(), v.GetDescription())
			}
		}
	}
	return int(s.Code())
}
