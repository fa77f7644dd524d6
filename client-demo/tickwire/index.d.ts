// Declarations of index.js: tickwire's browser client library. Give a game's types (from
// `tickwire schema --typescript`) as the first type argument: `new Client<Game>(...)`.

export { DecodeError, Reader, Writer } from "./bincode.js";
export type { Int64 } from "./bincode.js";
export { FixedRateLoop, InputTiming, ServerClock } from "./clock.js";
export { Client } from "./client.js";
export type { ClientEvents, ClientOptions, ClientSession, ClientStats, OwnView, View } from "./client.js";
export {
  authcheckUrl, CLIENT_PROTOCOL_ERROR, Connection, fetchRooms, matchmake, MatchmakeError, resumeUrl, socketUrl,
  tokenUrl, withName,
} from "./connection.js";
export type {
  ConnectionEvents, ConnectionOptions, ConnectionStatus, MatchmakeTarget, Placement, Rematch, RoomList,
  WebSocketConstructor,
} from "./connection.js";
export { Emitter } from "./events.js";
export type { EventArgs } from "./events.js";
export {
  INTERPOLATION_DELAY_MS, InterpolationDelay, Interpolator, MAX_EXTRAPOLATION_MS, MAX_INTERPOLATION_DELAY_MS,
} from "./interpolation.js";
export type {
  InterpolatedEntity, InterpolatedFrame, InterpolationOptions, InterpolationStats, InterpolatorOptions,
} from "./interpolation.js";
export { Predictor } from "./prediction.js";
export type { PredictionOptions, PredictionState, PredictionStats, PredictorOptions, RealFields } from "./prediction.js";
export {
  ChangeKind, ClientTag, CloseCode, decodeClientMessage, decodeServerMessage, encodeClientMessage,
  MAX_CLIENT_MESSAGE_BYTES, NO_ENTITY, OpTag, PROTOCOL_VERSION, ServerTag, SUBPROTOCOL, VersionError,
} from "./protocol.js";
export type {
  Change, ClientMessage, Delta, EventMessage, Full, Op, Pong, ServerMessage, Snapshot, SpawnComponent, Welcome,
} from "./protocol.js";
export { Entity, Replica, ReplicaCallbacks, ReplicaError } from "./replica.js";
export type { AddCallback, ChangeCallback, EntityCallback, RemoveCallback, SnapshotReport } from "./replica.js";
export { ComponentInfo, fnv1a64, Schema } from "./schema.js";
export type {
  CodecDescription, ComponentDescription, QuantizedFieldDescription, SchemaDescription, Visibility,
} from "./schema.js";
export type {
  AnyGame, ComponentName, ComponentValue, FieldType, GameTypes, PrimitiveType, RawValue, Type, TypeKind, Value,
} from "./types.js";
