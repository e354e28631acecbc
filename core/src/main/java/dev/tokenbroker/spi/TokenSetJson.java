package dev.tokenbroker.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tokenbroker.ConnectionId;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.store.TokenStoreException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The {@code tokens} object of a {@link TokenCodec} record: every field of a {@link TokenSet}, its
 * store version included, mapped to JSON and back. The record around it (format number, connection,
 * encryption envelope) is {@link TokenCodec}'s. A missing or malformed field is a {@link
 * TokenStoreException} naming the connection and the field, never its value.
 */
final class TokenSetJson {
  private TokenSetJson() {}

  /** The JSON object holding every field of {@code t}. */
  static ObjectNode toJson(TokenSet t) {
    ObjectNode o = JsonNodeFactory.instance.objectNode();
    o.put("version", t.version());
    o.put("tokenType", t.tokenType());
    o.put("accessToken", t.accessToken());
    o.put("expiresAt", t.expiresAt().toString());
    if (t.refreshToken() != null) {
      o.put("refreshToken", t.refreshToken());
    }
    if (t.refreshExpiresAt() != null) {
      o.put("refreshExpiresAt", String.valueOf(t.refreshExpiresAt()));
    }
    ArrayNode scopes = o.putArray("scopes");
    t.scopes().forEach(scopes::add);
    o.put("issuedAt", t.issuedAt().toString());
    ObjectNode extras = o.putObject("extras");
    t.extras().forEach(extras::put);
    return o;
  }

  /**
   * The token set {@code o} holds.
   *
   * @throws TokenStoreException naming {@code id} if {@code o} is not a valid token object
   */
  static TokenSet fromJson(ConnectionId id, @Nullable JsonNode o) {
    if (o == null || !o.isObject()) {
      throw TokenCodec.corrupt(id, "holds no token object", null);
    }
    try {
      JsonNode version = o.get("version");
      if (version == null || !version.canConvertToLong() || version.longValue() < 0) {
        throw TokenCodec.corrupt(id, "has no valid 'version'", null);
      }
      String tokenType = required(id, o, "tokenType");
      String accessToken = required(id, o, "accessToken");
      String refreshToken = text(o, "refreshToken");
      TokenSet.Builder b =
          TokenSet.builder()
              .version(version.longValue())
              .tokenType(tokenType)
              .accessToken(accessToken)
              .expiresAt(Instant.parse(required(id, o, "expiresAt")))
              .issuedAt(Instant.parse(required(id, o, "issuedAt")))
              .refreshToken(refreshToken);
      String refreshExpiresAt = text(o, "refreshExpiresAt");
      if (refreshExpiresAt != null) {
        b.refreshExpiresAt(Instant.parse(refreshExpiresAt));
      }
      JsonNode scopes = o.get("scopes");
      if (scopes != null && scopes.isArray()) {
        List<String> list = new ArrayList<>(scopes.size());
        for (JsonNode s : scopes) {
          list.add(s.asText());
        }
        b.scopes(list);
      }
      JsonNode extras = o.get("extras");
      if (extras != null && extras.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = extras.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          b.extra(e.getKey(), e.getValue().asText());
        }
      }
      return b.build();
    } catch (DateTimeParseException e) {
      throw TokenCodec.corrupt(id, "has a malformed time", null);
    } catch (IllegalArgumentException | ArithmeticException e) {
      // TokenSet's own checks; their messages name fields, never values.
      throw TokenCodec.corrupt(id, "holds an invalid token set: " + e.getMessage(), null);
    }
  }

  private static String required(ConnectionId id, JsonNode o, String field) {
    String v = text(o, field);
    if (v == null) {
      throw TokenCodec.corrupt(id, "has no '" + field + "'", null);
    }
    return v;
  }

  /** The text of {@code field}, or null when it is absent or not a JSON string. */
  static @Nullable String text(JsonNode o, String field) {
    JsonNode v = o.get(field);
    return v == null || !v.isTextual() ? null : v.textValue();
  }
}
