/**
 * The Cafe24 shop Admin API provider: authorization code with Basic client authentication, refresh
 * tokens that rotate on every refresh, offset-less expiry timestamps, and revocation. Select it
 * with {@code provider: cafe24}; see {@link dev.tokenbroker.cafe24.Cafe24ProviderFactory} for the
 * settings.
 */
@NullMarked
package dev.tokenbroker.cafe24;

import org.jspecify.annotations.NullMarked;
