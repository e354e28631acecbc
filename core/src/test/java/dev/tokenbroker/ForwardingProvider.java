package dev.tokenbroker;

import dev.tokenbroker.spi.GrantType;
import dev.tokenbroker.spi.RenewalPolicy;
import dev.tokenbroker.spi.TokenProvider;
import java.net.URI;
import org.jspecify.annotations.Nullable;

/** Delegates everything; tests override one method. */
class ForwardingProvider implements TokenProvider {
  final TokenProvider delegate;

  ForwardingProvider(TokenProvider delegate) {
    this.delegate = delegate;
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
    return delegate.exchangeCode(code, codeVerifier);
  }

  @Override
  public TokenSet refresh(TokenSet current) {
    return delegate.refresh(current);
  }

  @Override
  public TokenSet obtain(@Nullable TokenSet current) {
    return delegate.obtain(current);
  }

  @Override
  public void revoke(TokenSet current, Revocation revocation) {
    delegate.revoke(current, revocation);
  }
}
