# ntgo's gdb helpers: NT memory-manager views of a halted ntgo kernel.
#
# qemu/gdbinit sources this after gdb has loaded the kernel's symbols
# (build/kernel.linked). It adds
#
#   ntgo-pte <va>     the PXE, PPE, PDE and PTE that map va, as !pte prints them
#   ntgo-pool <addr>  the pool page holding addr, every block, as !pool prints it
#   ntgo-vm           the PFN database: frames per state, list heads, totals
#   $ntgo_pte(va)     va's leaf PTE as a value (print decodes it)
#   $ntgo_pfn(frame)  frame's PFN database entry as a value (print decodes it)
#
# and pretty-printers for ntgo/mm/pte.PTE and ntgo/mm/pfn.Entry, so `print`
# shows either decoded wherever one appears (locals, fields, arrays).
#
# Where the numbers come from. Go writes the package-level constants of each
# package with code in the binary into DWARF, so the PTE bits, the self-map
# bases, the pool header's field offsets and type bits, and the PFN states
# and flags are read by name from the kernel being debugged (_go_const
# below); structures (pfn.Database, pfn.Entry, pool.System and its big-page
# table) are read through their DWARF types, field by name; and the names
# printed come from the kernel's own tables where it keeps them in arrays
# (pte.hardwareBits, pfn.stateNames, pool.kindNames, ...). A constant the
# kernel renames makes loading fail, a renamed table the command that reads
# it, rather than decoding wrongly. What this file holds itself is the
# decoding logic of the Go methods it names, so that the helpers print what
# the kernel's kd commands print; qemu/consoletest's gdb test compares the
# two line for line.
#
# Memory. gdb reads virtual addresses through the CPU's current page tables,
# so page-table entries are read where the kernel itself reads them: through
# the self-map (PML4 slot pte.SelfMapSlot), at the address pte.EntryAddress
# computes, top level first. That works once the kernel runs on its own
# tables, i.e. after boot: stop in any function main reaches. Everything is
# read while the VM is stopped, so nothing here locks; a snapshot taken in
# the middle of a kernel update shows that update half done.

import gdb

MODULE = "ntgo"  # the kernel's Go module: symbols are MODULE/package.Name


def _go_const(name):
    """The value of the kernel's Go constant MODULE/name, from DWARF."""
    sym = gdb.lookup_static_symbol(f"{MODULE}/{name}")
    if sym is None:
        raise gdb.GdbError(f"ntgo.py: no constant {MODULE}/{name} in DWARF; load build/kernel.linked first")
    return int(sym.value())


def _go_var(name):
    """The kernel's Go package variable MODULE/name."""
    sym = gdb.lookup_global_symbol(f"{MODULE}/{name}")
    if sym is None:
        raise gdb.GdbError(f"ntgo.py: no variable {MODULE}/{name}; load build/kernel.linked first")
    return sym.value()


def _go_type(name):
    return gdb.lookup_type(f"{MODULE}/{name}")


def _go_string(value):
    """A Go string value's contents (a string is {str *uint8, len int})."""
    return value["str"].string("utf-8", length=int(value["len"]))


def _go_strings(name):
    """The kernel's [N]string table MODULE/name, as a list."""
    table = _go_var(name)
    low, high = table.type.range()
    return [_go_string(table[i]) for i in range(low, high + 1)]


def _read(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def _read_committed(addr, size):
    """size bytes at addr as the kernel would find them: a page committed but
    never touched (a demand-zero PTE, as most of a fresh Go allocation is)
    has no frame for gdb to read and reads as the zeros its first touch
    would map."""
    data = b""
    while size > 0:
        chunk = min(size, PAGE_SIZE - (addr & PAGE_MASK))
        try:
            data += _read(addr, chunk)
        except gdb.MemoryError:
            _, leaf = walk(addr)[-1]
            if pte_kind(leaf) != KIND_DEMAND_ZERO:
                raise gdb.GdbError(f"cannot read {addr:#x}: its PTE is {pte_string(leaf)}")
            data += bytes(chunk)
        addr, size = addr + chunk, size - chunk
    return data


def _load(data, offset, size):
    """The little-endian unsigned integer of size bytes at offset in data."""
    return int.from_bytes(data[offset : offset + size], "little")


UINTPTR = gdb.lookup_type("uintptr")
# The page geometry, as mm/pool names it: physmem, which defines it, has no
# DWARF unit in the kernel (all its code is inlined away, constants with it).
PAGE_SIZE = _go_const("mm/pool.pageSize")
PAGE_SHIFT = _go_const("mm/pool.pageShift")
PAGE_MASK = _go_const("mm/pool.pageMask")


def _address(expression):
    """A command argument evaluated as a gdb expression, as a uintptr."""
    if not expression.strip():
        raise gdb.GdbError("an address expression is required")
    return int(gdb.parse_and_eval(expression).cast(UINTPTR))


# ---- mm/pte: entries, the self-map, protections ------------------------------

PTE_TYPE = _go_type("mm/pte.PTE")

# Hardware bits and fields of a present entry (pte.go).
PRESENT = _go_const("mm/pte.Present")
WRITE = _go_const("mm/pte.Write")
PWT = _go_const("mm/pte.PWT")
PCD = _go_const("mm/pte.PCD")
LARGE_PAGE = _go_const("mm/pte.PS")
NX = _go_const("mm/pte.NX")
FRAME_MASK = _go_const("mm/pte.FrameMask")
FRAME_SHIFT = _go_const("mm/pte.frameShift")
USED_MASK = _go_const("mm/pte.UsedMask")
USED_SHIFT = _go_const("mm/pte.usedShift")

# Software fields of a not-present entry (software.go).
PROTECTION_MASK = _go_const("mm/pte.ProtectionMask")
PROTECTION_SHIFT = _go_const("mm/pte.protShift")
PROTOTYPE = _go_const("mm/pte.Prototype")
TRANSITION = _go_const("mm/pte.Transition")
RESERVED_PTE = _go_const("mm/pte.Reserved")

# What an entry encodes (pte.Kind).
KIND_FREE = _go_const("mm/pte.KindFree")
KIND_VALID = _go_const("mm/pte.KindValid")
KIND_DEMAND_ZERO = _go_const("mm/pte.KindDemandZero")
KIND_RESERVED = _go_const("mm/pte.KindReserved")
KIND_TRANSITION = _go_const("mm/pte.KindTransition")
KIND_UNKNOWN = _go_const("mm/pte.KindUnknown")

# NT MM protections (protection.go).
PROT_READONLY = _go_const("mm/pte.ProtReadOnly")
PROT_EXECUTE_READ = _go_const("mm/pte.ProtExecuteRead")
PROT_READWRITE = _go_const("mm/pte.ProtReadWrite")
PROT_EXECUTE_READWRITE = _go_const("mm/pte.ProtExecuteReadWrite")
PROT_GUARD = _go_const("mm/pte.ProtGuard")
PROT_NOACCESS = _go_const("mm/pte.ProtNoAccess")
PROT_DECOMMIT = _go_const("mm/pte.protDecommit")
PROT_ACCESS_MASK = _go_const("mm/pte.protAccessMask")
PROT_EXECUTE = _go_const("mm/pte.protExecute")
PROT_WRITE = _go_const("mm/pte.protWrite")
MAPPABLE_PROTECTIONS = (PROT_READONLY, PROT_EXECUTE_READ, PROT_READWRITE, PROT_EXECUTE_READWRITE)
# Protection.String keeps these in a Go map, which gdb cannot index.
PROTECTION_NAMES = {
    PROT_READONLY: "READONLY",
    PROT_EXECUTE_READ: "EXECUTE_READ",
    PROT_READWRITE: "READWRITE",
    PROT_EXECUTE_READWRITE: "EXECUTE_READWRITE",
    PROT_NOACCESS: "NOACCESS",
    PROT_DECOMMIT: "DECOMMIT",
}

# Cache types of a leaf (cache.go); CacheType.String is a switch.
CACHED = _go_const("mm/pte.Cached")
WRITE_COMBINED = _go_const("mm/pte.WriteCombined")
NON_CACHED = _go_const("mm/pte.NonCached")
CACHE_NAMES = {CACHED: "cached", WRITE_COMBINED: "write-combined", NON_CACHED: "uncached"}

# Levels, leaf first, with NT's names of their entries (Level.String).
PT = _go_const("mm/pte.PT")
PD = _go_const("mm/pte.PD")
PDPT = _go_const("mm/pte.PDPT")
PML4 = _go_const("mm/pte.PML4")
LEVEL_NAMES = {PT: "PTE", PD: "PDE", PDPT: "PPE", PML4: "PXE"}

# The self-map's view of each level (selfmap.go) and the address geometry.
LEVEL_BASE = {
    PT: _go_const("mm/pte.PteBase"),
    PD: _go_const("mm/pte.PdeBase"),
    PDPT: _go_const("mm/pte.PpeBase"),
    PML4: _go_const("mm/pte.PxeBase"),
}
PT_SHIFT = _go_const("mm/pte.PTShift")
INDEX_BITS = _go_const("mm/pte.indexBits")
ENTRY_SIZE = _go_const("mm/pte.entrySize")
VA_BITS = _go_const("mm/pte.vaBits")
VA_MASK = _go_const("mm/pte.vaMask")
UPPER_HALF = _go_const("mm/pte.upperHalf")


def _hardware_flags():
    """pte.hardwareBits: (bit, name) of every architectural bit, low to high."""
    table = _go_var("mm/pte.hardwareBits")
    low, high = table.type.range()
    return [(int(table[i]["bit"]), _go_string(table[i]["name"])) for i in range(low, high + 1)]


def _canonical(va):
    """pte.Canonical: va with bit VA_BITS-1 sign-extended."""
    if va >> (VA_BITS - 1) & 1:
        return va | UPPER_HALF
    return va & VA_MASK


def _level_shift(level):
    return PT_SHIFT + INDEX_BITS * level


def entry_address(level, va):
    """pte.EntryAddress: the self-map address of va's entry at level."""
    return LEVEL_BASE[level] + ((va & VA_MASK) >> _level_shift(level)) * ENTRY_SIZE


def _frame(e):
    return (e & FRAME_MASK) >> FRAME_SHIFT


def _soft_protection(e):
    return (e & PROTECTION_MASK) >> PROTECTION_SHIFT


def _protection_valid(p):
    return p == PROT_NOACCESS or p & ~PROT_GUARD in MAPPABLE_PROTECTIONS


def protection_string(p):
    """Protection.String."""
    if p & PROT_GUARD and p & PROT_ACCESS_MASK:
        return PROTECTION_NAMES[p & ~PROT_GUARD] + "|GUARD"
    return PROTECTION_NAMES.get(p, f"Protection({p:#x})")


def _hardware_protection(e):
    """The protection a present leaf's Write and NX bits express."""
    p = PROT_READWRITE if e & WRITE else PROT_READONLY
    if not e & NX:
        p |= PROT_EXECUTE
    return p


def _cache_string(e):
    """PTE.Cache: the PAT index PWT and PCD select; UC- reads as uncached."""
    bits = e & (PWT | PCD)
    if bits == 0:
        return CACHE_NAMES[CACHED]
    if bits == PWT:
        return CACHE_NAMES[WRITE_COMBINED]
    return CACHE_NAMES[NON_CACHED]


def pte_kind(e):
    """PTE.Kind."""
    if e == 0:
        return KIND_FREE
    if e & PRESENT:
        return KIND_VALID
    if e & (TRANSITION | PROTOTYPE) == TRANSITION:
        return KIND_TRANSITION
    if e & ~PROTECTION_MASK:
        return KIND_UNKNOWN
    if e == RESERVED_PTE:
        return KIND_RESERVED
    if _protection_valid(_soft_protection(e)):
        return KIND_DEMAND_ZERO
    return KIND_UNKNOWN


def pte_string(e):
    """PTE.String: the raw entry, then its frame and flags or its software state."""
    if e & PRESENT:
        flags = "|".join(name for bit, name in _hardware_flags() if e & bit)
        s = f"{e:016x} pfn {_frame(e):x} {flags}"
        used = (e & USED_MASK) >> USED_SHIFT
        return s + (f" used={used}" if used else "")
    kind = pte_kind(e)
    if kind == KIND_DEMAND_ZERO:
        state = "demand-zero " + protection_string(_soft_protection(e))
    elif kind == KIND_TRANSITION:
        state = f"transition pfn {_frame(e):x} {protection_string(_soft_protection(e))} {_cache_string(e)}"
    else:
        state = _go_strings("mm/pte.kindNames")[kind]
    return f"{e:016x} {state}"


def _entry_value(level, va):
    """va's level entry, read through the self-map, as a gdb value of type PTE."""
    return gdb.Value(entry_address(level, va)).cast(PTE_TYPE.pointer()).dereference()


def walk(va):
    """PageTables.Lookup: va's entries read top-down, stopping at the first
    one that is not present or maps a large page; a list of (level, entry)."""
    path = []
    for level in (PML4, PDPT, PD, PT):
        try:
            e = int(_entry_value(level, va))
        except gdb.MemoryError:
            raise gdb.GdbError(
                f"cannot read the {LEVEL_NAMES[level]} at {entry_address(level, va):016x}: "
                "the kernel's page tables are not live yet (stop after boot)"
            )
        path.append((level, e))
        if level == PT or not e & PRESENT or (level != PML4 and e & LARGE_PAGE):
            break
    return path


def walk_string(va):
    """Walk.String: each level's entry address and decoded contents, and for a
    present leaf the effective protection and cache type."""
    lines = [f"VA {va:016x}"]
    if _canonical(va) != va:
        return lines + ["not a canonical address"]
    path = walk(va)
    last, _ = path[-1]
    writable, no_execute = WRITE, 0  # combined over the levels, as the CPU does
    for _, e in path:
        writable &= e
        no_execute |= e & NX
    for level, e in path:
        line = f"{LEVEL_NAMES[level]} at {entry_address(level, va):016x}  {pte_string(e)}"
        if level == last and e & PRESENT:
            if level != PT:
                line += " large page"
            line += f" {protection_string(_hardware_protection(writable | no_execute))} {_cache_string(e)}"
        lines.append(line)
    return lines


class PteCommand(gdb.Command):
    """ntgo-pte VA: the PXE, PPE, PDE and PTE that map VA (a gdb expression),
    read through the kernel's self-map and decoded as the kernel's !pte does."""

    def __init__(self):
        super().__init__("ntgo-pte", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        gdb.write("\n".join(walk_string(_address(argument))) + "\n")


class PteFunction(gdb.Function):
    """$ntgo_pte(va): va's leaf PTE read through the self-map; print decodes it."""

    def __init__(self):
        super().__init__("ntgo_pte")

    def invoke(self, va):
        return _entry_value(PT, int(va.cast(UINTPTR)))


class PtePrinter:
    """Prints an ntgo/mm/pte.PTE as PTE.String does."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        return pte_string(int(self.value))


# ---- mm/pfn: the PFN database ------------------------------------------------

ENTRY_TYPE = _go_type("mm/pfn.Entry")
NUM_STATES = _go_const("mm/pfn.NumStates")
NUM_LISTS = _go_const("mm/pfn.numLists")
STATE_ZEROED = _go_const("mm/pfn.StateZeroed")
STATE_FREE = _go_const("mm/pfn.StateFree")
STATE_STANDBY = _go_const("mm/pfn.StateStandby")
STATE_RESERVED = _go_const("mm/pfn.StateReserved")
NO_LINK = _go_const("mm/pfn.noLink")
NO_LINK_SHOWN = "--------"  # how Info.String shows an empty list link
PFN_CACHE_MASK = _go_const("mm/pfn.cacheMask")
# Entry flag bits with the letters Info.String prints for them.
PFN_FLAG_LETTERS = (
    (_go_const("mm/pfn.flagModified"), "M"),
    (_go_const("mm/pfn.flagNoWrite"), "W"),
    (_go_const("mm/pfn.flagRemovalRequested"), "R"),
    (_go_const("mm/pfn.flagContiguous"), "C"),
    (_go_const("mm/pfn.flagStartOfRun"), "S"),
)
KIB = 1024


def _database():
    return _go_var("mm.PFN")


def _link_string(link):
    return NO_LINK_SHOWN if link == NO_LINK else f"{link:08x}"


def _state_name(state):
    """State.String."""
    names = _go_strings("mm/pfn.stateNames")
    return names[state] if state < len(names) else f"State({state})"


def pfn_entry_string(entry, frame=None):
    """Info.String for one entry; frame is None for a copy outside the database."""
    flags = "".join(letter for bit, letter in PFN_FLAG_LETTERS if int(entry["flags"]) & bit) or "-"
    cache = _go_strings("mm/pfn.cacheNames")[int(entry["flags"]) & PFN_CACHE_MASK]
    prefix = "" if frame is None else f"PFN {frame:08x}  "
    return (
        f"{prefix}{_state_name(int(entry['state']))}  flink {_link_string(int(entry['flink']))}  "
        f"blink {_link_string(int(entry['blink']))}  share {int(entry['shareCount'])}  "
        f"ref {int(entry['refCount'])}  pte {int(entry['pte']):016x}  "
        f"original {int(entry['originalPte']):016x}  {cache}  flags {flags}"
    )


def _frame_of(entry):
    """The frame an entry value describes, if it lies in the database."""
    if entry.address is None:
        return None
    entries = _database()["entries"]
    offset = int(entry.address.cast(UINTPTR)) - int(entries["array"].cast(UINTPTR))
    frame, rest = divmod(offset, ENTRY_TYPE.sizeof)
    if rest or not 0 <= frame < int(entries["len"]):
        return None
    return frame


class PfnEntryPrinter:
    """Prints an ntgo/mm/pfn.Entry as !pfn does."""

    def __init__(self, value):
        self.value = value

    def to_string(self):
        return pfn_entry_string(self.value, _frame_of(self.value))


class PfnFunction(gdb.Function):
    """$ntgo_pfn(frame): frame's PFN database entry; print decodes it."""

    def __init__(self):
        super().__init__("ntgo_pfn")

    def invoke(self, frame):
        entries = _database()["entries"]
        f = int(frame)
        if not 0 <= f < int(entries["len"]):
            raise gdb.GdbError(f"frame {f:#x} is beyond the PFN database ({int(entries['len']):#x} frames)")
        return entries["array"][f]


class VmCommand(gdb.Command):
    """ntgo-vm: the PFN database (ntgo/mm.PFN): frames in each state, the first
    and last frame of each page list, available frames and the total, as the
    kernel's !vm and !memusage count them."""

    def __init__(self):
        super().__init__("ntgo-vm", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        db = _database()
        counts = [int(db["count"][s]) for s in range(NUM_STATES)]
        frames = int(db["entries"]["len"])
        ram = frames - counts[STATE_RESERVED]
        available = counts[STATE_ZEROED] + counts[STATE_FREE] + counts[STATE_STANDBY]
        lines = [
            f"Physical memory:   {ram:8d} pages ({ram * PAGE_SIZE // KIB} KiB)",
            f"PFN database:      {frames:8d} entries x {ENTRY_TYPE.sizeof} bytes = "
            f"{frames * ENTRY_TYPE.sizeof // KIB} KiB at {int(db['entries']['array'].cast(UINTPTR)):#x}",
        ]
        for state in range(NUM_STATES):
            line = f"  {_state_name(state) + ':':<16} {counts[state]:8d}"
            if state < NUM_LISTS:
                head = db["lists"][state]
                line += f"  first {_link_string(int(head['first']))} last {_link_string(int(head['last']))}"
            lines.append(line)
        lines.append(f"  {'Available:':<16} {available:8d}")
        lines.append(f"  {'Total:':<16} {frames:8d}")
        gdb.write("\n".join(lines) + "\n")


# ---- mm/pool: block headers and the big-page table ---------------------------

# The POOL_HEADER (header.go): field offsets, geometry, PoolType bits.
HEADER_SIZE = _go_const("mm/pool.HeaderSize")
BLOCK_SHIFT = _go_const("mm/pool.BlockShift")
OFF_PREVIOUS_SIZE = _go_const("mm/pool.offPreviousSize")
OFF_POOL_INDEX = _go_const("mm/pool.offPoolIndex")
OFF_BLOCK_SIZE = _go_const("mm/pool.offBlockSize")
OFF_POOL_TYPE = _go_const("mm/pool.offPoolType")
OFF_POOL_TAG = _go_const("mm/pool.offPoolTag")
OFF_CHECK = _go_const("mm/pool.offCheck")
# readHeader's fields in offset order; each runs to the next one's offset,
# the last (the check field) to the header's end.
HEADER_FIELD_OFFSETS = (
    OFF_PREVIOUS_SIZE,
    OFF_POOL_INDEX,
    OFF_BLOCK_SIZE,
    OFF_POOL_TYPE,
    OFF_POOL_TAG,
    OFF_CHECK,
    HEADER_SIZE,
)
TAG_SIZE = OFF_CHECK - OFF_POOL_TAG
TYPE_FREE = _go_const("mm/pool.typeFree")
TYPE_ALLOCATED = _go_const("mm/pool.typeAllocated")
TYPE_CACHED = _go_const("mm/pool.typeCached")
TYPE_QUOTA = _go_const("mm/pool.typeQuota")
TYPE_STATE_MASK = _go_const("mm/pool.typeStateMask")

# Block states (debug.go's BlockState) and the PoolType state bits they read from.
BLOCK_FREE = _go_const("mm/pool.StateFree")
BLOCK_ALLOCATED = _go_const("mm/pool.StateAllocated")
BLOCK_CACHED = _go_const("mm/pool.StateCached")
BLOCK_BIG = _go_const("mm/pool.StateBig")
BLOCK_INVALID = _go_const("mm/pool.StateInvalid")
BLOCK_STATE_OF_TYPE = {TYPE_FREE: BLOCK_FREE, TYPE_ALLOCATED: BLOCK_ALLOCATED, TYPE_CACHED: BLOCK_CACHED}

POOL_KIND_PAGED = _go_const("mm/pool.KindPaged")
BIG_DELETED = _go_const("mm/pool.bigDeleted")  # va of a deleted big-table slot

# The pool regions of the address space (mm/layout): [start, start+size).
PAGED_POOL = (_go_const("mm/layout.PagedPoolStart"), _go_const("mm/layout.pagedPoolSize"))
NON_PAGED_POOL = (_go_const("mm/layout.NonPagedPoolStart"), _go_const("mm/layout.nonPagedPoolSize"))

# Tag.String shows bytes outside printable ASCII as this.
TAG_UNPRINTABLE = "."
TAG_PRINTABLE = range(ord(" "), ord("~") + 1)


def _pool_system():
    """ex.Pools(): the pool.System that ntgo/mm/ex.current (an unsafe.Pointer to an ex.system) holds."""
    system = _go_var("mm/ex.current").cast(_go_type("mm/ex.system").pointer())
    if int(system.cast(UINTPTR)) == 0:
        raise gdb.GdbError("the pools are not built yet (ex.Init has not run)")
    return system["pools"].dereference()


def _tag_string(tag):
    """Tag.String: the tag's characters in memory order."""
    chars = tag.to_bytes(TAG_SIZE, "little")
    return "".join(chr(c) if c in TAG_PRINTABLE else TAG_UNPRINTABLE for c in chars)


class Block:
    """debug.go's BlockInfo: one decoded block; addr is what !pool lists
    (BlockInfo.Listed: the header, or a big allocation's first byte)."""

    def __init__(self, addr, size, previous_size, state, tag, quota, contains, damage=""):
        self.addr, self.size, self.previous_size = addr, size, previous_size
        self.state, self.tag, self.quota = state, tag, quota
        self.contains, self.damage = contains, damage

    def line(self, state_names):
        """One line of PageReport.String."""
        mark = "*" if self.contains else " "
        previous = self.previous_size << BLOCK_SHIFT
        s = (
            f"{mark}{self.addr:#x} size: {self.size:#5x} previous size: {previous:#4x}  "
            f"({state_names[self.state]}) {_tag_string(self.tag)}"
        )
        if self.quota:
            s += " (Quota)"
        if self.damage:
            s += f"  DAMAGED: {self.damage}"
        return s


def _big_allocation(system, addr):
    """The big allocation holding addr, from the big-page table: (kind, Block),
    or None. The table is one Go slice of bigEntry, read in one go."""
    slots = system["big"]["slots"]
    count = int(slots["len"])
    entry_type = _go_type("mm/pool.bigEntry")
    raw = _read_committed(int(slots["array"].cast(UINTPTR)), count * entry_type.sizeof)
    table = gdb.Value(raw, entry_type.array(count - 1))
    for i in range(count):
        e = table[i]
        va, size = int(e["va"]), int(e["pages"]) << PAGE_SHIFT
        if va not in (0, BIG_DELETED) and va <= addr < va + size:
            block = Block(va, size, 0, BLOCK_BIG, int(e["tag"]), int(e["owner"]) != 0, True)
            return int(e["kind"]), block
    return None


def _read_header(data, at):
    """readHeader: the fields of the header at offset at of data, in offset order."""
    o = HEADER_FIELD_OFFSETS
    return [_load(data, at + o[i], o[i + 1] - o[i]) for i in range(len(o) - 1)]


def _page_blocks(page, data, addr, kind, cookie):
    """descriptor.walkPage: the headers of the small-block page at page (its
    bytes are data) in order, each checked as the kernel checks it; the walk
    stops where sizes stop chaining."""
    blocks, previous, at = [], 0, 0
    while at < PAGE_SIZE:
        prev, index, size, typ, tag, check = _read_header(data, at)
        header = page + at
        block = Block(
            header,  # listed by header, as BlockInfo.Listed
            size << BLOCK_SHIFT,
            prev,
            BLOCK_STATE_OF_TYPE.get(typ & TYPE_STATE_MASK, BLOCK_INVALID),
            tag,
            typ & TYPE_QUOTA != 0,
            header <= addr < header + (size << BLOCK_SHIFT),
        )
        owner = check ^ cookie ^ header  # cookie.open
        chained = True
        if size == 0:
            block.damage, chained = "BlockSize is 0", False
        elif at + block.size > PAGE_SIZE:
            block.damage, chained = "BlockSize runs past the page", False
        elif prev != previous:
            block.damage = f"PreviousSize {prev:#x}, but the previous block is {previous:#x} units"
        elif index != kind:
            block.damage = f"PoolIndex {index} in a {_go_strings('mm/pool.kindNames')[kind]} page"
        elif block.state == BLOCK_INVALID:
            block.damage = "PoolType has both allocated and cached bits"
        elif owner != 0 and not (block.quota and block.state == BLOCK_ALLOCATED):
            block.damage = "check field does not open with this boot's cookie"
        blocks.append(block)
        if not chained:
            break
        previous = size
        at += block.size
    return blocks


def _in_region(region, addr):
    start, size = region
    return start <= addr < start + size


def pool_report(addr):
    """System.Inspect and PageReport.String: the blocks of the pool page
    holding addr, the one containing addr marked, then this boot's cookie.

    The kernel knows a small-block page's pool from its descriptors'
    registries (Go maps); here the paged region means paged pool and in the
    non-paged region the first header's PoolIndex says which of the two. A
    mapped pool-region page that is no pool page to the kernel (a
    descriptor's own free-list heads) shows here as damaged headers."""
    if not (_in_region(PAGED_POOL, addr) or _in_region(NON_PAGED_POOL, addr)):
        raise gdb.GdbError(f"{addr:#x} is not in a pool region")
    system = _pool_system()
    cookie = int(system["cookie"])
    page = addr & ~PAGE_MASK
    big = _big_allocation(system, addr)
    if big is not None:
        kind, blocks = big[0], [big[1]]
    else:
        _, leaf = walk(page)[-1]
        if not leaf & PRESENT:
            raise gdb.GdbError(f"pool page {page:#x} is not mapped: {pte_string(leaf)}")
        data = _read(page, PAGE_SIZE)
        if _in_region(PAGED_POOL, addr):
            kind = POOL_KIND_PAGED
        else:
            _, kind, *_ = _read_header(data, 0)  # the first block's PoolIndex
        blocks = _page_blocks(page, data, addr, kind, cookie)
    names = _go_strings("mm/pool.stateNames")
    lines = [f"Pool page {page:#x} region is {_go_strings('mm/pool.kindNames')[kind]} pool"]
    lines += [b.line(names) for b in blocks]
    lines.append(f"Header cookie: {cookie:#018x}")
    return lines


class PoolCommand(gdb.Command):
    """ntgo-pool ADDR: the pool page holding ADDR (a gdb expression): every
    block's header decoded (address, size, previous size, state, tag, and any
    damage), the block holding ADDR marked with *, as the kernel's !pool does;
    then the boot's header cookie."""

    def __init__(self):
        super().__init__("ntgo-pool", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        gdb.write("\n".join(pool_report(_address(argument))) + "\n")


# ---- registration ------------------------------------------------------------

PRINTERS = {PTE_TYPE.name: PtePrinter, ENTRY_TYPE.name: PfnEntryPrinter}


def _lookup_printer(value):
    printer = PRINTERS.get(value.type.strip_typedefs().name)
    return printer(value) if printer else None


gdb.pretty_printers.append(_lookup_printer)
PteCommand()
PoolCommand()
VmCommand()
PteFunction()
PfnFunction()
