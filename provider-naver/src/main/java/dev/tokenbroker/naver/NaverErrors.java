package dev.tokenbroker.naver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Reads Naver Commerce error answers: the API's own {@code {code, message, timestamp,
 * invalidInputs:[{name, type, message}]}} and the gateway's {@code {code:"GW.…", message,
 * timestamp, traceId}}. Which codes mean a bad signature or a stale timestamp is undocumented, so
 * those two are recognised by what the code, message and invalid field names mention.
 */
final class NaverErrors {
  static final String IP_NOT_ALLOWED = "GW.IP_NOT_ALLOWED";
  static final String AUTHN = "GW.AUTHN";

  static final String IP_HINT =
      "this server's IP address is not allowed to call the Naver Commerce API for this"
          + " application: register the server's public IP address for the application in the Naver"
          + " Commerce API center (커머스API센터), then refresh the connection";

  private NaverErrors() {}

  /**
   * Whether the token endpoint refused the request for its timestamp. Defensive, because the code
   * strings are undocumented: a 400, 401 or 403 whose invalid field names — or, when it names no
   * fields, whose code or message — mention the timestamp.
   */
  static boolean isTimestampRejection(TokenResponse r) {
    int status = r.status();
    if ((status != 400 && status != 401 && status != 403) || r.json() == null) {
      return false;
    }
    List<String> names = invalidInputNames(r);
    if (!names.isEmpty()) {
      // The fields the server named decide: the message of a signature error may well quote the
      // timestamp it was computed over.
      return names.stream().anyMatch(NaverErrors::mentionsTimestamp);
    }
    return mentionsTimestamp(r.text("code")) || mentionsTimestamp(r.text("message"));
  }

  /** Whether the answer says the signature ({@code client_secret_sign}) did not verify. */
  static boolean isSignatureRejection(TokenResponse r) {
    if (r.json() == null || r.status() < 400 || r.status() >= 500) {
      return false;
    }
    List<String> names = invalidInputNames(r);
    if (!names.isEmpty()) {
      return names.stream().anyMatch(NaverErrors::mentionsSignature);
    }
    return mentionsSignature(r.text("code")) || mentionsSignature(r.text("message"));
  }

  /** The Naver reading of a token-endpoint error, with the platform's code and message kept. */
  static TokenEndpointException classify(TokenResponse r, Collection<String> secrets) {
    String code = r.text("code");
    String message = r.text("message");
    int status = r.status();
    TokenEndpointException.Builder b =
        r.failure()
            .platformCode(code)
            .errorDescription(message == null ? null : Secrets.scrub(message, secrets, 200));
    String upper = code == null ? "" : code.toUpperCase(Locale.ROOT);

    if (IP_NOT_ALLOWED.equals(upper)) {
      return b.kind(Kind.PERMANENT).reason(IP_HINT).build();
    }
    if (r.json() == null) {
      // Proxies and load balancers in front of the gateway answer with HTML pages.
      return b.kind(Kind.TRANSIENT)
          .reason("unexpected non-JSON answer from the token endpoint (an HTML error page?)")
          .build();
    }
    if (upper.equals("GW.RATE_LIMIT") || upper.equals("GW.QUOTA_LIMIT") || status == 429) {
      return b.kind(Kind.TRANSIENT).reason("rate limited by the Naver Commerce gateway").build();
    }
    if (upper.startsWith("GW.BLOCK")) {
      return b.kind(Kind.TRANSIENT)
          .reason("Naver Commerce is unavailable (circuit open or maintenance)")
          .build();
    }
    if (upper.startsWith("GW.TIMEOUT") || status == 408 || status == 504) {
      return b.kind(Kind.TRANSIENT).reason("the Naver Commerce gateway timed out").build();
    }
    if (status >= 500 || upper.startsWith("GW.PROXY") || upper.equals("GW.INTERNAL_SERVER_ERROR")) {
      return b.kind(Kind.TRANSIENT).reason("Naver Commerce token endpoint unavailable").build();
    }
    if (isSignatureRejection(r)) {
      return b.kind(Kind.PERMANENT)
          .reason(
              "signature rejected: client-secret is wrong or was reissued in the API center"
                  + " (a reissued secret breaks every signature at once)")
          .build();
    }
    List<String> names = invalidInputNames(r);
    if (status == 400 && !names.isEmpty()) {
      return b.kind(Kind.PERMANENT).reason("request rejected; invalid fields " + names).build();
    }
    if (status == 403) {
      return b.kind(Kind.PERMANENT)
          .reason(
              "access denied by Naver Commerce: check the application's permissions and, for"
                  + " type SELLER, that account-id is a seller linked to the application")
          .build();
    }
    if (status == 400 || status == 401) {
      return b.kind(Kind.PERMANENT)
          .reason("request rejected" + (code == null ? "" : " (" + code + ")"))
          .build();
    }
    return b.kind(Kind.TRANSIENT).reason("unexpected HTTP " + status).build();
  }

  /** The {@code name}s of {@code invalidInputs}, in order; never their values. */
  static List<String> invalidInputNames(TokenResponse r) {
    JsonNode json = r.json();
    JsonNode inputs = json == null ? null : json.get("invalidInputs");
    List<String> names = new ArrayList<>();
    if (inputs != null && inputs.isArray()) {
      for (JsonNode input : inputs) {
        JsonNode name = input.get("name");
        if (name != null && name.isTextual() && !name.asText().isBlank()) {
          names.add(printable(name.asText()));
        }
      }
    }
    return names;
  }

  static boolean mentionsTimestamp(@Nullable String text) {
    if (text == null) {
      return false;
    }
    String t = text.toLowerCase(Locale.ROOT);
    return t.contains("timestamp") || text.contains("타임스탬프");
  }

  static boolean mentionsSignature(@Nullable String text) {
    if (text == null) {
      return false;
    }
    String t = text.toLowerCase(Locale.ROOT);
    return t.contains("client_secret_sign") || t.contains("signature") || text.contains("서명");
  }

  private static String printable(String name) {
    String cut = name.length() > 60 ? name.substring(0, 60) + "…" : name;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
