/**
 * A {@link dev.tokenbroker.store.TokenStore} on Redis through Lettuce: {@link
 * dev.tokenbroker.redis.RedisTokenStore}, and the {@code redis} store type for configuration files.
 */
@NullMarked
package dev.tokenbroker.redis;

import org.jspecify.annotations.NullMarked;
