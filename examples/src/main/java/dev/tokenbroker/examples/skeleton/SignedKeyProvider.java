package dev.tokenbroker.examples.skeleton;

import dev.tokenbroker.TokenEndpointException;
import dev.tokenbroker.TokenEndpointException.Kind;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenHttp;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.jspecify.annotations.Nullable;

/**
 * SKELETON, for docs/providers.md: a provider for an invented platform that is not OAuth. It trades
 * an API key id, a timestamp and an HMAC-SHA256 signature of both for a short-lived token:
 *
 * <pre>
 * POST {base-url}/v1/session
 * X-Key-Id: k-123
 * X-Timestamp: 1767225600000                       (epoch milliseconds)
 * X-Signature: base64(HMAC-SHA256(secret, keyId + "\n" + timestamp))
 *
 * 200 {"session_token": "...", "ttl_seconds": 1800}
 * 401 {"code": "BAD_SIGNATURE" | "KEY_REVOKED", "message": "..."}     a person must act
 * 400 {"code": "STALE_TIMESTAMP", ...}, 429, 5xx                      retry later
 * </pre>
 *
 * <p>What a provider does, and all it does: the platform's request, its answer mapped to a {@link
 * TokenSet}, its errors classified, its renewal rule. Caching, single flight, storage, retries and
 * health are the broker's. Immutable and thread-safe; keeps no state between calls.
 */
final class SignedKeyProvider implements TokenProvider {
  static final String NAME = "signed-key";
  private static final Duration MAX_TTL = Duration.ofDays(1);
  private static final MediaType EMPTY = MediaType.get("application/json");

  private final HttpUrl sessionUrl;
  private final String keyId;
  private final String secret;
  private final Duration renewBefore;
  private final Clock clock;
  private final TokenHttp http;

  SignedKeyProvider(
      HttpUrl baseUrl, String keyId, String secret, Duration renewBefore, ProviderContext context) {
    this.sessionUrl = baseUrl.newBuilder().addPathSegments("v1/session").build();
    this.keyId = keyId;
    this.secret = secret;
    this.renewBefore = renewBefore;
    this.clock = context.clock(); // the broker's clock: tests move it by hand
    this.http = context.tokenHttp(NAME); // no retries on its own, bounded bodies, scrubbing
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public GrantType grantType() {
    return GrantType.CLIENT_CREDENTIALS; // no person, no refresh token: obtain() again each time
  }

  @Override
  public RenewalPolicy renewalPolicy() {
    // Renew renewBefore ahead; treat the last 10 s as expired (a token must survive the API call).
    return RenewalPolicy.of(renewBefore, Duration.ofSeconds(10));
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    String timestamp = Long.toString(clock.millis());
    String signature = sign(keyId + "\n" + timestamp);
    Request request =
        new Request.Builder()
            .url(sessionUrl)
            .header("X-Key-Id", keyId)
            .header("X-Timestamp", timestamp)
            .header("X-Signature", signature)
            .post(RequestBody.create(new byte[0], EMPTY))
            .build();
    // mayRotate=false: nothing is spent by asking, so a lost answer is simply asked again later.
    TokenResponse r = http.send(request, false, secret, signature);
    if (!r.isSuccessful()) {
      throw classify(r);
    }
    return TokenSet.builder()
        .accessToken(r.requireToken("session_token", true))
        .tokenType("Bearer")
        .issuedAt(r.receivedAt())
        .expiresAt(r.receivedAt().plus(r.requireLifetime("ttl_seconds", MAX_TTL)))
        .extra("key_id", keyId) // extras are for the application: never a secret
        .build();
  }

  /** The platform's errors: permanent when a person must fix the key, else transient. */
  private static TokenEndpointException classify(TokenResponse r) {
    String code = r.text("code");
    TokenEndpointException.Builder e = r.failure().platformCode(code);
    if (r.status() == 401 && "BAD_SIGNATURE".equals(code)) {
      return e.kind(Kind.PERMANENT).reason("the platform refused the key's signature").build();
    }
    if (r.status() == 401 && "KEY_REVOKED".equals(code)) {
      return e.kind(Kind.PERMANENT)
          .reason("the API key was revoked: the signature key is dead")
          .build();
    }
    return e.kind(Kind.TRANSIENT).reason("the platform could not issue a session now").build();
  }

  private String sign(String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return Base64.getEncoder().encodeToString(mac.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  @Override
  public String toString() {
    return "SignedKeyProvider{" + sessionUrl + ", key " + keyId + '}'; // no secret
  }
}
