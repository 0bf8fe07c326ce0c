# CPU image by default. For CUDA, build on a CUDA runtime image that has Python 3.11 and take
# torch from PyPI's default (CUDA) build:
#   docker build --build-arg BASE=<cuda-python-image> --build-arg TORCH_INDEX= .
ARG BASE=python:3.11-slim
FROM ${BASE}
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY data data
COPY model model
COPY service service
COPY zhtag zhtag
RUN pip install --no-cache-dir ${TORCH_INDEX:+--extra-index-url ${TORCH_INDEX}} -c constraints.txt ".[s3]" \
    && useradd --create-home --uid 10001 zhtag \
    && mkdir -p /data/store /data/work && chown zhtag /data/store /data/work
USER zhtag
ENV ZHTAG_HOST=0.0.0.0 \
    ZHTAG_PORT=8000 \
    ZHTAG_STORE=/data/store
EXPOSE 8000
CMD ["zhtag", "serve"]
