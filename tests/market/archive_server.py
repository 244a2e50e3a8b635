"""A stand-in for data.binance.vision on 127.0.0.1: serves zips and .CHECKSUM files built by the tests.

``ArchiveServer.put_month`` lays out one month of ``futures/um`` archives exactly where the library looks for them
(reference §4.5-4.6): ``data/futures/um/monthly/{klines,markPriceKlines}/SYM/1m/SYM-1m-YYYY-MM.zip`` and
``data/futures/um/monthly/fundingRate/SYM/SYM-fundingRate-YYYY-MM.zip``, each with ``<sha256>  <file name>``.
"""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KLINE_HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"
)
FUNDING_HEADER = "calc_time,funding_interval_hours,last_funding_rate"
MIN = 60_000


def kline_rows(t0: int, ohlcv: list[tuple[str, str, str, str, str]], *, micro: bool = False) -> list[str]:
    """12-column archive rows, one a minute from ``t0`` (ms); times written in µs when ``micro``."""
    k = 1000 if micro else 1
    out = []
    for i, (o, h, lo, c, v) in enumerate(ohlcv):
        t = t0 + i * MIN
        out.append(f"{t * k},{o},{h},{lo},{c},{v},{(t + MIN - 1) * k},0,0,0,0,0")
    return out


def zip_csv(csv_name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(csv_name, text)
    return buf.getvalue()


def checksum(blob: bytes, name: str) -> bytes:
    return f"{hashlib.sha256(blob).hexdigest()}  {name}\n".encode()


class ArchiveServer:
    """ThreadingHTTPServer on a random port; ``files`` maps URL paths to bytes; ``requests`` logs what was asked."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        files, requests = self.files, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                requests.append(self.path)
                body = files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def put(self, path: str, blob: bytes, *, sha_of: bytes | None = None) -> None:
        """Serve ``blob`` at ``/path`` and its CHECKSUM (of ``sha_of`` instead, to fake a corrupt download)."""
        name = path.rsplit("/", 1)[1]
        self.files[f"/{path}"] = blob
        self.files[f"/{path}.CHECKSUM"] = checksum(blob if sha_of is None else sha_of, name)

    def put_month(
        self,
        symbol: str,
        month: str,
        klines: list[str] | None,
        marks: list[str] | None,
        funding: list[str] | None,
        *,
        header: bool = True,
    ) -> None:
        base = "data/futures/um/monthly"
        for kind, rows in (("klines", klines), ("markPriceKlines", marks)):
            if rows is not None:
                name = f"{symbol}-1m-{month}"
                text = "\n".join(([KLINE_HEADER] if header else []) + rows) + "\n"
                self.put(f"{base}/{kind}/{symbol}/1m/{name}.zip", zip_csv(f"{name}.csv", text))
        if funding is not None:
            name = f"{symbol}-fundingRate-{month}"
            text = "\n".join([FUNDING_HEADER, *funding]) + "\n"
            self.put(f"{base}/fundingRate/{symbol}/{name}.zip", zip_csv(f"{name}.csv", text))
