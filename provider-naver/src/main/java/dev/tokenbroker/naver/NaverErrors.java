package dev.tokenbroker.naver;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.spi.OAuthErrors.Verdict;
import dev.tokenbroker.spi.Secrets;
import dev.tokenbroker.spi.TokenResponse;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Reads Naver Commerce error answers: the API's own {@code {code, message, timestamp,
 * invalidInputs:[{name, type, message}]}} and the gateway's {@code {code:"GW.…", message,
 * timestamp, traceId}}. Which codes mean a bad signature or a stale timestamp is undocumented, so
 * those two are recognised by what the code, message and invalid field names mention.
 */
final class NaverErrors {
  static final String IP_NOT_ALLOWED = "GW.IP_NOT_ALLOWED";

  static final String IP_HINT =
      "this server's IP address is not allowed to call the Naver Commerce API for this"
          + " application: register the server's public IP address for the application in the Naver"
          + " Commerce API center (커머스API센터), then refresh the connection";

  private static final String[] TIMESTAMP = {"timestamp", "타임스탬프"};
  private static final String[] SIGNATURE = {"client_secret_sign", "signature", "서명"};

  private NaverErrors() {}

  /**
   * Whether the token endpoint refused the request for its timestamp. Defensive, because the code
   * strings are undocumented: a 400, 401 or 403 that {@linkplain #says says} so.
   */
  static boolean isTimestampRejection(TokenResponse r) {
    int status = r.status();
    return (status == 400 || status == 401 || status == 403) && says(r, TIMESTAMP);
  }

  /** Whether a 4xx answer says the signature ({@code client_secret_sign}) did not verify. */
  static boolean isSignatureRejection(TokenResponse r) {
    return r.status() >= 400 && r.status() < 500 && says(r, SIGNATURE);
  }

  /**
   * Whether a JSON answer's invalid field names mention one of {@code words} — or, when it names no
   * fields, its code or message does. The fields the server named decide: the message of a
   * signature error may well quote the timestamp it was computed over.
   */
  private static boolean says(TokenResponse r, String... words) {
    if (r.json() == null) {
      return false;
    }
    List<String> names = invalidInputNames(r);
    if (!names.isEmpty()) {
      return names.stream().anyMatch(n -> mentions(n, words));
    }
    return mentions(r.text("code"), words) || mentions(r.text("message"), words);
  }

  /** The Naver reading of a token-endpoint error, with the platform's code and message kept. */
  static TokenEndpointException classify(TokenResponse r, Collection<String> secrets) {
    String code = r.text("code");
    String message = r.text("message");
    return verdict(r, code == null ? "" : code.toUpperCase(Locale.ROOT))
        .apply(
            r.failure()
                .platformCode(code)
                .errorDescription(message == null ? null : Secrets.scrub(message, secrets, 200)));
  }

  private static Verdict verdict(TokenResponse r, String code) {
    int status = r.status();
    if (IP_NOT_ALLOWED.equals(code)) {
      return Verdict.permanent(IP_HINT);
    }
    if (r.json() == null) {
      // Proxies and load balancers in front of the gateway answer with HTML pages.
      return Verdict.temporary(
          "unexpected non-JSON answer from the token endpoint (an HTML error page?)");
    }
    if (code.equals("GW.RATE_LIMIT") || code.equals("GW.QUOTA_LIMIT") || status == 429) {
      return Verdict.temporary("rate limited by the Naver Commerce gateway");
    }
    if (code.startsWith("GW.BLOCK")) {
      return Verdict.temporary("Naver Commerce is unavailable (circuit open or maintenance)");
    }
    if (code.startsWith("GW.TIMEOUT") || status == 408 || status == 504) {
      return Verdict.temporary("the Naver Commerce gateway timed out");
    }
    if (status >= 500 || code.startsWith("GW.PROXY") || code.equals("GW.INTERNAL_SERVER_ERROR")) {
      return Verdict.temporary("Naver Commerce token endpoint unavailable");
    }
    if (isSignatureRejection(r)) {
      return Verdict.permanent(
          "signature rejected: client-secret is wrong or was reissued in the API center"
              + " (a reissued secret breaks every signature at once)");
    }
    List<String> names = invalidInputNames(r);
    if (status == 400 && !names.isEmpty()) {
      return Verdict.permanent("request rejected; invalid fields " + names);
    }
    if (status == 403) {
      return Verdict.permanent(
          "access denied by Naver Commerce: check the application's permissions and, for"
              + " type SELLER, that account-id is a seller linked to the application");
    }
    if (status == 400 || status == 401) {
      String said = r.text("code");
      return Verdict.permanent("request rejected" + (said == null ? "" : " (" + said + ")"));
    }
    return Verdict.temporary("unexpected HTTP " + status);
  }

  /**
   * The {@code name}s of {@code invalidInputs}, in order, cut and printable; never their values.
   */
  static List<String> invalidInputNames(TokenResponse r) {
    JsonNode json = r.json();
    JsonNode inputs = json == null ? null : json.get("invalidInputs");
    List<String> names = new ArrayList<>();
    if (inputs != null && inputs.isArray()) {
      for (JsonNode input : inputs) {
        JsonNode name = input.get("name");
        if (name != null && name.isTextual() && !name.asText().isBlank()) {
          String n = name.asText();
          names.add((n.length() > 60 ? n.substring(0, 60) + "…" : n).replaceAll("\\p{Cntrl}", "?"));
        }
      }
    }
    return names;
  }

  private static boolean mentions(@Nullable String text, String... words) {
    String t = text == null ? "" : text.toLowerCase(Locale.ROOT);
    return Stream.of(words).anyMatch(t::contains);
  }
}
