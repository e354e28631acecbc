package dev.tokenbroker.spi;

import dev.tokenbroker.TokenEndpointException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.jspecify.annotations.Nullable;

/**
 * One form POST to a token (or revocation) endpoint, made by {@link OAuthClient}: parameters in the
 * order added, the client authenticated as its {@link ClientAuth} says ({@code client_id} right
 * after {@code grant_type}, a form-body {@code client_secret} last), {@code Accept:
 * application/json}, and every secret involved scrubbed from what is kept of the answer.
 *
 * <p>Single use, not thread-safe. Holds secrets: {@link #toString()} shows only parameter names.
 */
public final class TokenRequest {
  private final OAuthClient client;
  private final HttpUrl url;
  private final Map<String, String> extra;
  private final Map<String, String> params = new LinkedHashMap<>();
  private final List<String> secrets = new ArrayList<>();
  private boolean clientIdAdded;

  TokenRequest(OAuthClient client, HttpUrl url, Map<String, String> extra) {
    this.client = client;
    this.url = url;
    this.extra = extra;
    secrets.addAll(client.secrets());
    // Configured extra parameters may carry credentials (an assertion, an API key): scrubbed too.
    secrets.addAll(extra.values());
  }

  /**
   * Adds a form parameter; a null value adds nothing.
   *
   * @param name the parameter
   * @param value its value, or null
   * @return this request
   * @throws IllegalArgumentException if the parameter was added already (RFC 6749 §3.2)
   */
  public TokenRequest param(String name, @Nullable String value) {
    Objects.requireNonNull(name, "name");
    if (value == null) {
      return this;
    }
    if (params.put(name, value) != null) {
      throw new IllegalArgumentException("parameter '" + name + "' added twice");
    }
    ClientAuth auth = client.endpoint().clientAuth();
    clientIdAdded |= name.equals("client_id");
    if (!clientIdAdded && (auth == ClientAuth.FORM || auth == ClientAuth.NONE)) {
      clientIdAdded = true;
      param("client_id", client.clientId());
    }
    return this;
  }

  /**
   * Adds a value to scrub from anything kept of the answer (the refresh token, code, verifier…).
   *
   * @param values the secrets; nulls are ignored
   * @return this request
   */
  public TokenRequest secret(@Nullable String... values) {
    if (values != null) {
      for (String v : values) {
        if (v != null) {
          secrets.add(v);
        }
      }
    }
    return this;
  }

  /**
   * Every secret this request carries, for a classification that quotes the answer.
   *
   * @return the secrets
   */
  public List<String> secrets() {
    return List.copyOf(secrets);
  }

  /**
   * Sends the request once through {@link TokenHttp#send}.
   *
   * @param mayRotate whether processing it may spend a refresh token (every refresh on a platform
   *     that may rotate): a lost answer is then {@code OUTCOME_UNKNOWN}
   * @return the answer, whatever its status
   */
  public TokenResponse send(boolean mayRotate) {
    Map<String, String> form = new LinkedHashMap<>(params);
    extra.forEach(form::putIfAbsent);
    String secret = client.clientSecret();
    if (client.endpoint().clientAuth() == ClientAuth.FORM && secret != null) {
      form.put("client_secret", secret);
    }
    StringBuilder body = new StringBuilder();
    form.forEach(
        (k, v) ->
            body.append(body.length() == 0 ? "" : "&")
                .append(OAuthClient.formEncode(k))
                .append('=')
                .append(OAuthClient.formEncode(v)));
    Request.Builder request =
        new Request.Builder()
            .url(url)
            .header("Accept", "application/json")
            .post(
                RequestBody.create(
                    body.toString().getBytes(StandardCharsets.UTF_8), client.formType()));
    String basic = client.basicCredentials();
    if (basic != null) {
      request.header("Authorization", basic);
    }
    return client.http().send(request.build(), mayRotate, secrets.toArray(new String[0]));
  }

  /**
   * Sends the request once, as {@link #send}, and throws the platform's reading of an answer that
   * is not 2xx: the send-check-classify every grant repeats, once.
   *
   * @param mayRotate as for {@link #send}
   * @param failure the platform's classification of a failed answer
   * @return the successful answer
   * @throws TokenEndpointException what {@code failure} makes of a failed answer
   */
  public TokenResponse sendOrThrow(boolean mayRotate, Failure failure) {
    TokenResponse r = send(mayRotate);
    if (!r.isSuccessful()) {
      throw failure.of(r, secrets());
    }
    return r;
  }

  /** A platform's reading of a failed answer ({@link #sendOrThrow}). */
  @FunctionalInterface
  public interface Failure {
    /**
     * The exception for a failed answer.
     *
     * @param r the answer, not 2xx
     * @param secrets every secret the request carried, to scrub from what the exception quotes
     * @return the exception to throw
     */
    TokenEndpointException of(TokenResponse r, List<String> secrets);
  }

  @Override
  public String toString() {
    return "TokenRequest{" + url + ", params=" + params.keySet() + '}';
  }
}
