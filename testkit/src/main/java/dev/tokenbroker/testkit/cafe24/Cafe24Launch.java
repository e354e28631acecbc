package dev.tokenbroker.testkit.cafe24;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/**
 * The signed query Cafe24 appends to an app's App URL when an operator opens the app, as the {@link
 * Cafe24Emulator} builds and spoils it: the parameters in alphabetical order, percent-encoded as
 * Cafe24 does, signed with HMAC-SHA256 over the still-encoded query and the client secret, and the
 * helpers that tamper with a query or drop one of its parameters. Stateless.
 */
final class Cafe24Launch {
  private Cafe24Launch() {}

  /** The signed launch query of {@code mallId}'s operator at {@code timestamp}. */
  static String query(String mallId, Instant timestamp, String secret) {
    Map<String, String> raw = new java.util.TreeMap<>();
    raw.put("is_multi_shop", "T");
    raw.put("lang", "ko_KR");
    raw.put("mall_id", mallId);
    raw.put("nation", "KR");
    raw.put("shop_no", "1");
    raw.put("timestamp", Long.toString(timestamp.getEpochSecond()));
    raw.put("user_id", mallId);
    raw.put("user_name", percentEncode("대표 운영자"));
    raw.put("user_type", "P");
    StringBuilder query = new StringBuilder();
    raw.forEach(
        (k, v) -> {
          if (query.length() > 0) {
            query.append('&');
          }
          query.append(k).append('=').append(v);
        });
    // Signed before "&hmac=" is appended: the signature covers the other parameters only.
    String signature = signature(query.toString(), secret);
    return query + "&hmac=" + percentEncode(signature);
  }

  static String signature(String message, String secret) {
    try {
      javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
      mac.init(
          new javax.crypto.spec.SecretKeySpec(
              secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder()
          .encodeToString(mac.doFinal(message.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static String tamper(String query, String parameter, String rawValue) {
    StringBuilder out = new StringBuilder();
    boolean replaced = false;
    for (String part : query.split("&", -1)) {
      String key = part.contains("=") ? part.substring(0, part.indexOf('=')) : part;
      if (out.length() > 0) {
        out.append('&');
      }
      if (key.equals(parameter)) {
        out.append(key).append('=').append(rawValue);
        replaced = true;
      } else {
        out.append(part);
      }
    }
    if (!replaced) {
      out.append('&').append(parameter).append('=').append(rawValue);
    }
    return out.toString();
  }

  /**
   * {@code query} without {@code parameter}.
   *
   * @param query a launch query
   * @param parameter the parameter to drop
   * @return the query without it
   */
  static String withoutParameter(String query, String parameter) {
    StringBuilder out = new StringBuilder();
    for (String part : query.split("&", -1)) {
      String key = part.contains("=") ? part.substring(0, part.indexOf('=')) : part;
      if (!key.equals(parameter)) {
        if (out.length() > 0) {
          out.append('&');
        }
        out.append(part);
      }
    }
    return out.toString();
  }

  /** Percent-encodes as Cafe24's App URLs do: a space is {@code %20}, not {@code +}. */
  private static String percentEncode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
