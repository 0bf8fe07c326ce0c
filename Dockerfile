FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu . \
    && useradd --create-home zhtag
USER zhtag
ENV ZHTAG_HOST=0.0.0.0 ZHTAG_PORT=8000 ZHTAG_STORE=/home/zhtag/store
EXPOSE 8000
CMD ["zhtag", "serve"]
