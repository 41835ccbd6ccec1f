#!/usr/bin/env node
// Withdraws a message through osm-grpc-adapter and prints the outcome.
// Usage: npm ci; OSM_AUTH_TOKEN=... node withdraw.js HOST:PORT CASE_ID MESSAGE_ID
// Exit status: the gRPC status code.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const includeDirs = [process.env.OSM_PROTO_DIR || path.join(__dirname, '../../proto'),
  process.env.GOOGLEAPIS_DIR || '/usr/share/gocode/src/github.com/gogo/googleapis'];
const definition = protoLoader.loadSync('huaweicloud/osm/v2/message_service.proto',
                                        {includeDirs, keepCase: true});
const {MessageService} = grpc.loadPackageDefinition(definition).huaweicloud.osm.v2;
// The types of the google.rpc.Status in the trailer grpc-status-details-bin.
const rpc = new protobuf.Root();
rpc.resolvePath = (origin, file) =>
  includeDirs.map((dir) => path.join(dir, file)).find((f) => fs.existsSync(f)) || file;
rpc.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], {keepCase: true});
const decode = (type, bytes) => rpc.lookupType(type).decode(bytes || Buffer.alloc(0));

const [target, caseId, messageId] = process.argv.slice(2);
const client = new MessageService(target, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
if (process.env.OSM_AUTH_TOKEN) metadata.set('x-auth-token', process.env.OSM_AUTH_TOKEN);
const request = {case_id: caseId, message_id: messageId};
client.Withdraw(request, metadata, {deadline: Date.now() + 10000}, (error, response) => {
  client.close();
  if (!error) return console.log(`OK request_id: ${response.request_id}`);
  console.log(`code: ${grpc.status[error.code]}\nmessage: ${error.details}`);
  const [bytes] = error.metadata.get('grpc-status-details-bin');
  for (const any of decode('google.rpc.Status', bytes).details) {
    const type = any.type_url.split('/').pop();
    if (type === 'google.rpc.ErrorInfo') {
      const info = decode(type, any.value);
      console.log(`reason: ${info.reason}`);
      if (info.metadata.errorCode) console.log(`osm_error_code: ${info.metadata.errorCode}`);
    } else if (type === 'google.rpc.RequestInfo') {
      console.log(`request_id: ${decode(type, any.value).request_id}`);
    } else if (type === 'google.rpc.BadRequest') {
      for (const v of decode(type, any.value).field_violations) {
        console.log(`invalid field: ${v.field}: ${v.description}`);
      }
    }
  }
  process.exitCode = error.code;
});
