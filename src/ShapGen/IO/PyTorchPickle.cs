using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Text;
using static TorchSharp.torch;

namespace ShapGen;

/// <summary>
/// A restricted unpickler for what <c>torch.save(model.state_dict())</c> writes: dicts, lists, tuples, numbers,
/// strings, <c>collections.OrderedDict</c>, tensors rebuilt by <c>torch._utils._rebuild_tensor(_v2)</c> /
/// <c>_rebuild_parameter</c> over <c>torch.*Storage</c> persistent ids. Any other global is refused before it is
/// touched, nothing is ever called or imported, and every length is checked against the bytes that remain, so a
/// hostile file gets an <see cref="InvalidDataException"/> and never code execution or an unbounded allocation.
/// </summary>
internal sealed class PyTorchPickle
{
    /// <summary>Marks (open tuples, lists, dicts) nested deeper than this are refused: no state dict comes close.</summary>
    internal const int MaxNesting = 1000;

    internal static readonly Dictionary<string, (ScalarType Type, int Size)> Storages = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = (ScalarType.Float64, 8), ["FloatStorage"] = (ScalarType.Float32, 4),
        ["HalfStorage"] = (ScalarType.Float16, 2), ["BFloat16Storage"] = (ScalarType.BFloat16, 2),
        ["LongStorage"] = (ScalarType.Int64, 8), ["IntStorage"] = (ScalarType.Int32, 4),
        ["ShortStorage"] = (ScalarType.Int16, 2), ["CharStorage"] = (ScalarType.Int8, 1),
        ["ByteStorage"] = (ScalarType.Byte, 1), ["BoolStorage"] = (ScalarType.Bool, 1),
    };

    private static readonly HashSet<string> Functions = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    };

    /// <summary>A global the pickle names (only those on the allow list exist).</summary>
    internal sealed record Global(string Module, string Name)
    {
        public override string ToString() => $"{Module}.{Name}";
    }

    /// <summary>A Python tuple.</summary>
    internal sealed record Tuple(object?[] Items);

    /// <summary>A Python dict (insertion order kept).</summary>
    internal sealed class Dict
    {
        public List<KeyValuePair<object?, object?>> Items { get; } = new();
    }

    /// <summary>A storage the pickle refers to by key: its element type and element count.</summary>
    internal sealed record StorageRef(string Key, ScalarType Type, int ElementSize, long Count);

    /// <summary>A tensor as a view of a storage.</summary>
    internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    private readonly Stream _stream;
    private readonly string _source;
    private readonly Dictionary<string, StorageRef> _storages;
    private readonly List<object?> _stack = new();
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = new();

    private PyTorchPickle(Stream stream, string source, Dictionary<string, StorageRef> storages)
    {
        _stream = stream;
        _source = source;
        _storages = storages;
    }

    /// <summary>Reads one pickle from the stream's position to its STOP opcode.</summary>
    /// <param name="stream">A seekable stream.</param>
    /// <param name="source">The file (and member) for messages.</param>
    /// <param name="storages">Storages by key, shared by the pickles of one file; new ones are added.</param>
    public static object? Read(Stream stream, string source, Dictionary<string, StorageRef> storages) =>
        new PyTorchPickle(stream, source, storages).Run();

    private InvalidDataException Bad(string message) =>
        new($"{_source}: {message} (at byte {_stream.Position} of the pickle).");

    private long Remaining => _stream.Length - _stream.Position;

    private byte[] Bytes(long count)
    {
        if (count < 0 || count > Remaining)
            throw Bad($"a length of {count} bytes runs past the end of the data ({Remaining} remain)");
        var buffer = new byte[count];
        _stream.ReadExactly(buffer);
        return buffer;
    }

    private int Byte()
    {
        int b = _stream.ReadByte();
        return b >= 0 ? b : throw Bad("the pickle ends before its STOP opcode: the file is truncated");
    }

    private string Line()
    {
        var bytes = new List<byte>();
        for (int b = Byte(); b != '\n'; b = Byte())
        {
            if (bytes.Count >= 256) throw Bad("a GLOBAL name longer than 256 bytes");
            bytes.Add((byte)b);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Bad("an opcode pops from an empty stack");
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Top() => _stack.Count > (_marks.Count > 0 ? _marks[^1] : 0) ? _stack[^1] : throw Bad("an opcode reads an empty stack");

    private List<object?> PopToMark()
    {
        if (_marks.Count == 0) throw Bad("an opcode needs a MARK that was never set");
        int mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Run()
    {
        while (true)
        {
            int op = Byte();
            switch (op)
            {
                case 0x80: int protocol = Byte(); if (protocol > 5) throw Bad($"pickle protocol {protocol} (known: 0 to 5)"); break;
                case 0x95: _ = Bytes(8); break; // FRAME: a length hint only
                case '.': // STOP
                    if (_marks.Count > 0 || _stack.Count != 1) throw Bad("STOP with an unbalanced stack");
                    return _stack[0];
                case '(':
                    if (_marks.Count >= MaxNesting) throw Bad($"structures nested more than {MaxNesting} levels deep; no state dict needs that");
                    _marks.Add(_stack.Count);
                    break;
                case '0': Pop(); break;
                case '1': PopToMark(); break;
                case '2': Push(Top()); break;
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))); break;
                case 'K': Push((long)Byte()); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2))); break;
                case 0x8a: Push(Long(Byte())); break;
                case 0x8b:
                    int length = BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));
                    if (length < 0 || length > 64) throw Bad($"a LONG4 integer of {length} bytes");
                    Push(Long(length));
                    break;
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Bytes(8))); break;
                case 'X': Push(Encoding.UTF8.GetString(Bytes(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))))); break;
                case 0x8c: Push(Encoding.UTF8.GetString(Bytes(Byte()))); break;
                case 0x8d: Push(Encoding.UTF8.GetString(Bytes((long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(Bytes(8)), long.MaxValue)))); break;
                // Byte strings (Python 2 str, Python 3 bytes): torch decodes them as ASCII.
                case 'U': case 'C': Push(Encoding.Latin1.GetString(Bytes(Byte()))); break;
                case 'T': case 'B': Push(Encoding.Latin1.GetString(Bytes(BinaryPrimitives.ReadInt32LittleEndian(Bytes(4))))); break;
                case ')': Push(new Tuple(System.Array.Empty<object?>())); break;
                case 't': Push(new Tuple(PopToMark().ToArray())); break;
                case 0x85: Push(new Tuple(new[] { Pop() })); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new Tuple(new[] { a, b })); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new Tuple(new[] { a, b, c })); break; }
                case ']': Push(new List<object?>()); break;
                case 'l': Push(PopToMark()); break;
                case 'a': { var v = Pop(); List(Top()).Add(v); break; }
                case 'e': { var items = PopToMark(); List(Top()).AddRange(items); break; }
                case '}': Push(new Dict()); break;
                case 'd': { var items = PopToMark(); var d = new Dict(); AddPairs(d, items); Push(d); break; }
                case 's': { var v = Pop(); var k = Pop(); DictOf(Top()).Items.Add(new(k, v)); break; }
                case 'u': { var items = PopToMark(); AddPairs(DictOf(Top()), items); break; }
                case 'c': Push(Allowed(Line(), Line())); break;
                case 0x93: { var name = Pop(); var module = Pop(); Push(Allowed(Text(module, "module"), Text(name, "name"))); break; }
                case 'R': { var args = Pop(); var f = Pop(); Push(Reduce(f, args)); break; }
                case 'b': { _ = Pop(); if (Top() is not Dict) throw Bad("BUILD (setting object state) on something other than a dict"); break; }
                case 'Q': Push(Persistent(Pop())); break;
                case 'q': _memo[Byte()] = Top(); break;
                case 'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4))] = Top(); break;
                case 0x94: _memo[_memo.Count] = Top(); break;
                case 'h': Push(Memo(Byte())); break;
                case 'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4)))); break;
                default:
                    throw Bad($"opcode 0x{op:x2} ('{(op is >= 32 and < 127 ? (char)op : '?')}'), which a state dict saved by torch.save does not use");
            }
        }
    }

    private object Long(int length)
    {
        var value = new BigInteger(Bytes(length), isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private object? Memo(long index) =>
        _memo.TryGetValue(index, out var value) ? value : throw Bad($"memo entry {index} is read before it is written");

    private List<object?> List(object? target) => target as List<object?> ?? throw Bad($"APPEND to {Describe(target)}, not a list");

    private Dict DictOf(object? target) => target as Dict ?? throw Bad($"SETITEM on {Describe(target)}, not a dict");

    private void AddPairs(Dict dict, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Bad("a dict built from an odd number of items");
        for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
    }

    private string Text(object? value, string what) => value as string ?? throw Bad($"a global {what} that is {Describe(value)}, not a string");

    private Global Allowed(string module, string name)
    {
        string full = $"{module}.{name}";
        if (Functions.Contains(full) || (module == "torch" && Storages.ContainsKey(name)))
            return new Global(module, name);
        throw Bad($"the pickle refers to '{full}', which a state dict does not need; refused (only tensors, storages and " +
                  "OrderedDict are rebuilt, nothing else is imported or called)");
    }

    private object Reduce(object? function, object? args)
    {
        if (function is not Global f || f.Module == "torch")
            throw Bad($"a call of {Describe(function)}, which is not callable here");
        var a = args as Tuple ?? throw Bad($"{f} called with {Describe(args)} instead of an argument tuple");
        switch (f.Name)
        {
            case "OrderedDict":
                var dict = new Dict();
                if (a.Items.Length == 0) return dict;
                if (a.Items.Length != 1 || a.Items[0] is not List<object?> pairs) throw Bad("OrderedDict called with arguments other than a list of pairs");
                foreach (var pair in pairs)
                {
                    var kv = pair switch { Tuple t => t.Items, List<object?> l => l.ToArray(), _ => null };
                    if (kv is not { Length: 2 }) throw Bad($"OrderedDict item {Describe(pair)} is not a (key, value) pair");
                    dict.Items.Add(new(kv[0], kv[1]));
                }
                return dict;
            case "_rebuild_parameter":
                if (a.Items.Length < 1 || a.Items[0] is not TensorRef parameter) throw Bad("_rebuild_parameter without a tensor");
                return parameter;
            default: // _rebuild_tensor(storage, offset, size, stride[, requires_grad, hooks[, metadata]])
                int expected = f.Name == "_rebuild_tensor" ? 4 : 6;
                if (a.Items.Length != expected && !(f.Name == "_rebuild_tensor_v2" && a.Items.Length == 7))
                    throw Bad($"{f} called with {a.Items.Length} arguments; expected {expected}");
                var storage = a.Items[0] as StorageRef ?? throw Bad($"{f} over {Describe(a.Items[0])}, not a storage");
                long offset = Integer(a.Items[1], "storage offset");
                long[] shape = Integers(a.Items[2], "size");
                long[] stride = Integers(a.Items[3], "stride");
                return View(storage, offset, shape, stride);
        }
    }

    /// <summary>Checks that the view stays inside its storage (no overflow, no negative stride) before anything is allocated.</summary>
    private TensorRef View(StorageRef storage, long offset, long[] shape, long[] stride)
    {
        string what = $"a tensor of size {Shapes.Format(shape)} and stride {Shapes.Format(stride)} at offset {offset} of storage '{storage.Key}' ({storage.Count} elements)";
        if (shape.Length != stride.Length) throw Bad($"{what}: size and stride have different lengths");
        if (shape.Length > 64) throw Bad($"{what}: more than 64 dimensions");
        if (offset < 0 || shape.Any(d => d < 0) || stride.Any(s => s < 0)) throw Bad($"{what}: a negative offset, dimension or stride");
        if (shape.Contains(0)) return new TensorRef(storage, offset, shape, stride);
        long last = offset;
        try
        {
            checked
            {
                for (int i = 0; i < shape.Length; i++) last += (shape[i] - 1) * stride[i];
            }
        }
        catch (OverflowException)
        {
            throw Bad($"{what}: it reaches beyond any storage (its last element's index overflows)");
        }
        if (last >= storage.Count)
            throw Bad($"{what}: its last element is element {last}, but the storage holds {storage.Count}");
        return new TensorRef(storage, offset, shape, stride);
    }

    private long Integer(object? value, string what) => value is long v ? v : throw Bad($"a tensor {what} that is {Describe(value)}, not an integer");

    private long[] Integers(object? value, string what)
    {
        var items = value switch { Tuple t => t.Items, List<object?> l => l.ToArray(), _ => throw Bad($"a tensor {what} that is {Describe(value)}, not a tuple") };
        return items.Select(i => Integer(i, what)).ToArray();
    }

    /// <summary>('storage', torch.XStorage, key, location, element count[, view metadata]) as torch.save writes it.</summary>
    private StorageRef Persistent(object? id)
    {
        if (id is not Tuple { Items: var items } || items.Length is < 5 or > 6 || items[0] as string != "storage")
            throw Bad($"a persistent id {Describe(id)}; only ('storage', type, key, location, size) is known");
        if (items[1] is not Global { Module: "torch" } type || !Storages.TryGetValue(type.Name, out var dtype))
            throw Bad($"a storage of type {Describe(items[1])}");
        string key = items[2] as string ?? throw Bad($"a storage key that is {Describe(items[2])}");
        if (items[4] is not long count || count < 0) throw Bad($"storage '{key}' with element count {Describe(items[4])}");
        if (items.Length == 6 && items[5] is not null) throw Bad($"storage '{key}' is a view of another storage (PyTorch < 0.4), which is not supported");
        DataFile.ByteCount(new[] { count }, dtype.Size, $"{_source}: storage '{key}'");
        var storage = new StorageRef(key, dtype.Type, dtype.Size, count);
        if (_storages.TryGetValue(key, out var known))
        {
            if (known != storage) throw Bad($"storage '{key}' is declared twice with different types or sizes");
            return known;
        }
        _storages[key] = storage;
        return storage;
    }

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        long or BigInteger => $"the integer {value}",
        double d => $"the float {d}",
        bool b => b ? "True" : "False",
        Tuple t => $"a tuple of {t.Items.Length}",
        List<object?> l => $"a list of {l.Count}",
        Dict d => $"a dict of {d.Items.Count}",
        Global g => $"'{g}'",
        StorageRef s => $"storage '{s.Key}'",
        TensorRef t => $"a tensor {Shapes.Format(t.Shape)}",
        _ => value.GetType().Name,
    };
}
