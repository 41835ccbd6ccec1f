#!/usr/bin/env node
// Watches cases for new messages through osm-grpc-adapter (WatchNewMessages):
// prints each batch's messages and its last_message_time_id as they arrive,
// starting after MARKER, for at most SECONDS (default: until the stream
// ends). When the stream ends with UNAVAILABLE (the adapter shut down) or at
// the deadline, it prints the marker to resume from: pass it as MARKER.
// Usage: npm ci; OSM_AUTH_TOKEN=... node watch.js HOST:PORT CASE_ID[,CASE_ID...] [MARKER [SECONDS]]
// Exit status: the gRPC status code.
'use strict';
const {client, metadata, printError, sender, status} = require('./osm_example');

const [target, caseIds, start = '', seconds] = process.argv.slice(2);
let marker = start;
const service = client(target);
const request = {case_ids: caseIds.split(','), last_message_time_id: marker};
const options = seconds ? {deadline: Date.now() + Number(seconds) * 1000} : {};
const stream = service.WatchNewMessages(request, metadata(), options);
stream.on('data', (batch) => {
  for (const c of batch.cases) {
    for (const m of c.messages) {
      console.log(`${c.case_id} [${sender(m)} ${m.create_time}] ${m.content}`);
    }
  }
  marker = batch.last_message_time_id;
  console.log(`last_message_time_id: ${marker}`);
});
stream.on('error', (error) => {
  service.close();
  process.exitCode = printError(error);
  if (error.code === status.UNAVAILABLE || error.code === status.DEADLINE_EXCEEDED) {
    console.log(`resume_from: ${marker}`);
  }
});
stream.on('end', () => service.close());
