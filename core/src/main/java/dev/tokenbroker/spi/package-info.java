/**
 * The provider SPI: {@link dev.tokenbroker.spi.TokenProvider}, the one interface a platform
 * implements, its {@link dev.tokenbroker.spi.TokenProviderFactory}, the platform's {@link
 * dev.tokenbroker.spi.RenewalPolicy}, and helpers for provider and store implementations: typed
 * access to a connection's settings, the token-endpoint HTTP client that never re-sends a request
 * on its own, the OAuth plumbing platform modules share ({@link dev.tokenbroker.spi.OAuthEndpoint},
 * {@link dev.tokenbroker.spi.OAuthClient}, {@link dev.tokenbroker.spi.TokenAnswer}, {@link
 * dev.tokenbroker.spi.OAuthErrors}, {@link dev.tokenbroker.spi.SettingRules}, {@link
 * dev.tokenbroker.spi.CallbackParams}), the record codec, and secret scrubbing. Applications do not
 * need this package.
 */
@NullMarked
package dev.tokenbroker.spi;

import org.jspecify.annotations.NullMarked;
