"""Downloading and unpacking for the vision datasets: checksummed downloads from a list of mirrors,
gzip and tar members written atomically, nothing unpickled and no archive path trusted."""
import contextlib
import gzip
import hashlib
import os
import tarfile
import tempfile
import urllib.error

_CHUNK = 1 << 20
_TIMEOUT = 30.0


def calculate_md5(path, chunk_size=_CHUNK):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk_size), b""):
            digest.update(block)
    return digest.hexdigest()


def check_md5(path, md5):
    return calculate_md5(path) == md5


def check_integrity(path, md5=None):
    """True if `path` is a file (and, when md5 is given, has that checksum)."""
    if not os.path.isfile(path):
        return False
    return md5 is None or check_md5(path, md5)


@contextlib.contextmanager
def _atomic_output(path):
    """A binary file object whose contents replace `path` only if the block finishes."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def download_url(url, root, filename=None, md5=None, timeout=_TIMEOUT):
    """Download url into root/filename, checking md5 when given; nothing is left behind on failure.
    Raises urllib.error.URLError (or OSError) when the server cannot be reached, RuntimeError
    when the download does not match its checksum."""
    import urllib.request  # (imported here: it brings in ssl and http, which most programs never use)
    filename = filename or os.path.basename(url)
    path = os.path.join(root, filename)
    if check_integrity(path, md5):
        return path
    request = urllib.request.Request(url, headers={"User-Agent": "autograd_core"})
    digest = hashlib.md5(usedforsecurity=False)
    with urllib.request.urlopen(request, timeout=timeout) as response, _atomic_output(path) as out:
        for block in iter(lambda: response.read(_CHUNK), b""):
            digest.update(block)
            out.write(block)
        if md5 is not None and digest.hexdigest() != md5:
            raise RuntimeError(f"{url}: the download's MD5 is {digest.hexdigest()}, expected {md5} (a damaged or "
                               "changed file; nothing was kept)")
    return path


def download_from_mirrors(dataset, mirrors, filename, root, md5):
    """Try each mirror in turn; a clear error naming every mirror tried if none answers."""
    errors = []
    for mirror in mirrors:
        url = mirror + filename
        try:
            return download_url(url, root, filename, md5)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
    tried = "; ".join(errors) or "no mirror configured"
    raise RuntimeError(f"{dataset}: could not download {filename} ({tried}). Are you offline? Download the file "
                       f"yourself and put it in {root}, then create the dataset again")


def gunzip(src, dst, max_bytes=1 << 31):
    """Decompress the gzip file src into dst (atomically), refusing more than max_bytes of output."""
    written = 0
    with gzip.open(src, "rb") as stream, _atomic_output(dst) as out:
        for block in iter(lambda: stream.read(_CHUNK), b""):
            written += len(block)
            if written > max_bytes:
                raise RuntimeError(f"{src}: decompresses to more than {max_bytes} bytes; refusing it")
            out.write(block)
    return dst


def extract_tar_members(archive, dest, wanted):
    """Write the regular-file members of a .tar(.gz) whose names are in `wanted` under dest, at
    those names. Links, devices, absolute paths and '..' are never created: members are read as
    data and written by this function, not extracted by tarfile."""
    found = set()
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if member.name not in wanted:
                continue
            parts = member.name.split("/")
            if not member.isfile() or member.name.startswith("/") or ".." in parts:
                raise RuntimeError(f"{archive}: member {member.name!r} is not a plain file; refusing the archive")
            source = tar.extractfile(member)
            with _atomic_output(os.path.join(dest, *parts)) as out:
                while block := source.read(_CHUNK):
                    out.write(block)
            found.add(member.name)
    missing = sorted(set(wanted) - found)
    if missing:
        raise RuntimeError(f"{archive}: the archive lacks {', '.join(missing)}")
