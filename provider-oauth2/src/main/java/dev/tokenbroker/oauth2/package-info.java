/**
 * A standard OAuth 2.0 platform (RFC 6749) described entirely by configuration: authorization code
 * with optional PKCE, refresh tokens (rotating or not), client credentials, RFC 7009 revocation and
 * RFC 8414 discovery. Select it with {@code provider: oauth2}; see {@link
 * dev.tokenbroker.oauth2.OAuth2ProviderFactory} for the settings.
 */
@NullMarked
package dev.tokenbroker.oauth2;

import org.jspecify.annotations.NullMarked;
