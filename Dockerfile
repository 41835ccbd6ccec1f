# osm-adapter in a container: build on Debian 12, run on Debian 12 slim with
# only the runtime libraries, as a non-root user.
#   docker build -t osm-adapter .
#   docker run -p 50051:50051 -p 9464:9464 \
#     -e OSM_ADAPTER_UPSTREAM=https://osm.ap-southeast-3.myhuaweicloud.com osm-adapter

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh build
COPY . .
RUN cmake --preset default -DOSM_BUILD_TESTS=OFF -DOSM_BUILD_BENCH=OFF \
 && cmake --build --preset default --target osm-adapter osm-health-probe \
 && install -D -m 0755 build/server/osm-adapter /out/osm-adapter \
 && install -D -m 0755 build/client/osm-health-probe /out/osm-health-probe

# Packages come from the one list in scripts/install-deps.sh (the runtime
# group: what the binaries load), never from a copy here;
# tests/packaging/check_packages.py checks that the group covers the binaries.
FROM debian:12-slim
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh runtime \
 && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin osm
COPY --from=build /out/ /usr/local/bin/
USER 10001
EXPOSE 50051 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD ["osm-health-probe", "--target=127.0.0.1:50051"]
ENTRYPOINT ["osm-adapter"]
CMD ["--listen=[::]:50051", "--metrics_listen=[::]:9464"]
