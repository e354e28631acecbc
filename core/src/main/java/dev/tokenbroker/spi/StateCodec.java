package dev.tokenbroker.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.Health;
import dev.tokenbroker.store.HealthRecord;
import dev.tokenbroker.store.TokenStoreException;
import dev.tokenbroker.store.Tombstone;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import org.jspecify.annotations.Nullable;

/**
 * Turns the records a store keeps beside a connection's token set — its {@link HealthRecord} and
 * {@link Tombstone} — into bytes and back: one JSON object each, in the clear (they hold no secret:
 * reasons, error codes, instants, versions), tagged with a record format number.
 *
 * <pre>
 * {"tokenbroker":2,"kind":"health","connection":"cafe24:mall","state":"DEGRADED",
 *  "reason":"rate-limited","detail":"…","errorCode":"429","since":"…","nextAttemptAt":"…",
 *  "retryAfter":"…","failures":2,"tokenVersion":7,"version":3}
 * {"tokenbroker":2,"kind":"tombstone","connection":"cafe24:mall","reason":"revoked","at":"…",
 *  "version":7}
 * </pre>
 *
 * <p>Token-set records keep format 1 ({@link TokenCodec}): these records are new in format 2 and
 * live beside them, so an instance of an earlier release sharing the store during a rolling upgrade
 * reads the token sets it knows and never meets a record it cannot parse. A record of a newer
 * format than {@link #FORMAT}, or a malformed one, is a {@link TokenStoreException} naming the
 * connection.
 */
public final class StateCodec {
  /** The format of the records this class writes and the newest it reads. */
  public static final int FORMAT = 2;

  private static final ObjectMapper JSON = new ObjectMapper();

  private StateCodec() {}

  /**
   * The stored form of {@code health} (with its version).
   *
   * @param id the connection
   * @param health the health record
   * @return the stored form of {@code health} (with its version)
   */
  public static byte[] encodeHealth(ConnectionId id, HealthRecord health) {
    ObjectNode o = header(id, "health");
    o.put("state", health.state().name());
    o.put("reason", health.reason());
    o.put("detail", health.detail());
    putNullable(o, "errorCode", health.errorCode());
    o.put("since", health.since().toString());
    putNullable(o, "nextAttemptAt", health.nextAttemptAt());
    putNullable(o, "retryAfter", health.retryAfter());
    o.put("failures", health.failures());
    o.put("tokenVersion", health.tokenVersion());
    o.put("version", health.version());
    return bytes(o);
  }

  /**
   * The health record stored as {@code bytes}.
   *
   * @param id the connection
   * @param bytes the stored bytes
   * @return the health record stored as {@code bytes}
   */
  public static HealthRecord decodeHealth(ConnectionId id, byte[] bytes) {
    JsonNode o = parse(id, bytes, "health");
    try {
      return new HealthRecord(
          Health.State.valueOf(text(id, o, "state")),
          text(id, o, "reason"),
          text(id, o, "detail"),
          nullableText(o, "errorCode"),
          Instant.parse(text(id, o, "since")),
          instant(o, "nextAttemptAt"),
          instant(o, "retryAfter"),
          o.path("failures").asInt(),
          o.path("tokenVersion").asLong(),
          o.path("version").asLong());
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw corrupt(id, "health", "has an invalid field: " + e.getMessage(), e);
    }
  }

  /**
   * The stored form of {@code tombstone}.
   *
   * @param id the connection
   * @param tombstone the tombstone to leave
   * @return the stored form of {@code tombstone}
   */
  public static byte[] encodeTombstone(ConnectionId id, Tombstone tombstone) {
    ObjectNode o = header(id, "tombstone");
    o.put("reason", tombstone.reason());
    o.put("at", tombstone.at().toString());
    o.put("version", tombstone.version());
    return bytes(o);
  }

  /**
   * The tombstone stored as {@code bytes}.
   *
   * @param id the connection
   * @param bytes the stored bytes
   * @return the tombstone stored as {@code bytes}
   */
  public static Tombstone decodeTombstone(ConnectionId id, byte[] bytes) {
    JsonNode o = parse(id, bytes, "tombstone");
    try {
      return new Tombstone(
          text(id, o, "reason"), Instant.parse(text(id, o, "at")), o.path("version").asLong());
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw corrupt(id, "tombstone", "has an invalid field: " + e.getMessage(), e);
    }
  }

  private static ObjectNode header(ConnectionId id, String kind) {
    ObjectNode o = JSON.createObjectNode();
    o.put("tokenbroker", FORMAT);
    o.put("kind", kind);
    o.put("connection", id.toString());
    return o;
  }

  private static JsonNode parse(ConnectionId id, byte[] bytes, String kind) {
    JsonNode o;
    try {
      o = JSON.readTree(bytes);
    } catch (IOException | RuntimeException | StackOverflowError e) {
      throw corrupt(id, kind, "is not JSON", null);
    }
    if (o == null || !o.isObject()) {
      throw corrupt(id, kind, "is not a JSON object", null);
    }
    JsonNode format = o.get("tokenbroker");
    if (format == null || !format.canConvertToInt()) {
      throw corrupt(id, kind, "has no 'tokenbroker' format number", null);
    }
    if (format.intValue() > FORMAT || format.intValue() < 2) {
      throw corrupt(
          id,
          kind,
          "has format "
              + format.intValue()
              + ", this version of Tokenbroker reads format 2 (written by a newer version?)",
          null);
    }
    if (!kind.equals(o.path("kind").asText())) {
      throw corrupt(id, kind, "is a '" + o.path("kind").asText() + "' record", null);
    }
    if (!id.toString().equals(o.path("connection").asText())) {
      throw corrupt(id, kind, "belongs to another connection", null);
    }
    return o;
  }

  private static String text(ConnectionId id, JsonNode o, String field) {
    JsonNode n = o.get(field);
    if (n == null || !n.isTextual()) {
      throw corrupt(id, o.path("kind").asText(), "has no '" + field + "'", null);
    }
    return n.asText();
  }

  private static @Nullable String nullableText(JsonNode o, String field) {
    JsonNode n = o.get(field);
    return n == null || n.isNull() ? null : n.asText();
  }

  private static @Nullable Instant instant(JsonNode o, String field) {
    String t = nullableText(o, field);
    return t == null ? null : Instant.parse(t);
  }

  private static void putNullable(ObjectNode o, String field, @Nullable Object value) {
    if (value == null) {
      o.putNull(field);
    } else {
      o.put(field, value.toString());
    }
  }

  private static byte[] bytes(ObjectNode o) {
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static TokenStoreException corrupt(
      ConnectionId id, String kind, String what, @Nullable Throwable cause) {
    return new TokenStoreException(
        id, "connection " + id + ": the stored " + kind + " record " + what, cause);
  }
}
