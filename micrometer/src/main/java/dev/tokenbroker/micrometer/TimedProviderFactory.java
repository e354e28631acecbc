package dev.tokenbroker.micrometer;

import dev.tokenbroker.Revocation;
import dev.tokenbroker.TokenSet;
import dev.tokenbroker.spi.ApiVerdict;
import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.ProviderContext;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.Settings;
import dev.tokenbroker.spi.TokenProvider;
import dev.tokenbroker.spi.TokenProviderFactory;
import java.net.URI;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/** A provider factory whose providers time their token endpoint calls. */
final class TimedProviderFactory implements TokenProviderFactory {
  private final TokenProviderFactory delegate;
  private final TokenBrokerMetrics metrics;

  TimedProviderFactory(TokenProviderFactory delegate, TokenBrokerMetrics metrics) {
    this.delegate = delegate;
    this.metrics = metrics;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public TokenProvider create(Settings settings, ProviderContext context) {
    return new TimedProvider(delegate.create(settings, context), metrics);
  }

  @Override
  public String toString() {
    return "Timed" + delegate;
  }

  /**
   * Forwards every method; times the three that call the token endpoint. Stateless like the
   * provider it wraps.
   */
  static final class TimedProvider implements TokenProvider {
    private final TokenProvider delegate;
    private final TokenBrokerMetrics metrics;

    TimedProvider(TokenProvider delegate, TokenBrokerMetrics metrics) {
      this.delegate = delegate;
      this.metrics = metrics;
    }

    private interface Call {
      TokenSet run();
    }

    private TokenSet timed(String grant, Call call) {
      long start = System.nanoTime();
      boolean ok = false;
      try {
        TokenSet result = call.run();
        ok = true;
        return result;
      } finally {
        metrics.recordTokenRequest(delegate.name(), grant, ok, System.nanoTime() - start);
      }
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public GrantType grantType() {
      return delegate.grantType();
    }

    @Override
    public RenewalPolicy renewalPolicy() {
      return delegate.renewalPolicy();
    }

    @Override
    public boolean usesPkce() {
      return delegate.usesPkce();
    }

    @Override
    public URI authorizationUrl(String state, @Nullable String codeChallenge) {
      return delegate.authorizationUrl(state, codeChallenge);
    }

    @Override
    public TokenSet exchangeCode(String code, @Nullable String codeVerifier) {
      return timed("authorization-code", () -> delegate.exchangeCode(code, codeVerifier));
    }

    @Override
    public TokenSet refresh(TokenSet current) {
      return timed("refresh", () -> delegate.refresh(current));
    }

    @Override
    public TokenSet obtain(@Nullable TokenSet current) {
      return timed("client-credentials", () -> delegate.obtain(current));
    }

    @Override
    public void revoke(TokenSet current, Revocation revocation) {
      delegate.revoke(current, revocation);
    }

    @Override
    public @Nullable String subjectOf(TokenSet issued) {
      return delegate.subjectOf(issued);
    }

    @Override
    public TokenSet validate(TokenSet current) {
      return delegate.validate(current);
    }

    @Override
    public boolean validatesOnLoad() {
      return delegate.validatesOnLoad();
    }

    @Override
    public ApiVerdict classifyApiResponse(Response response) {
      return delegate.classifyApiResponse(response);
    }

    @Override
    public void decorateApiRequest(Request.Builder request, TokenSet current) {
      delegate.decorateApiRequest(request, current);
    }

    @Override
    public String toString() {
      return delegate.toString();
    }
  }
}
